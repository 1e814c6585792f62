using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

public sealed class HeldJobsTests
{
    [Fact]
    public async Task ALeaseLetLapseByTwoCallersAtOnce_StaysKnown()
    {
        // Two ticks of the lease extender may stop the same run past its lease at the same moment: a lease forgotten
        // then would be handed back by the next listing while its run may still be going.
        var job = LeasedJobs.Create("job-1", 7);
        var forgotten = 0;
        for (var i = 0; i < 2000; i++)
        {
            var held = new HeldJobs();
            held.Add(new RunningJob(job));
            using var together = new Barrier(2);
            var first = Task.Run(() => { together.SignalAndWait(); held.LetLapse(job.Id, job.LeaseToken); });
            var second = Task.Run(() => { together.SignalAndWait(); held.LetLapse(job.Id, job.LeaseToken); });
            await Task.WhenAll(first, second);
            if (!held.Knows(new LeaseRef(job.Id, job.LeaseToken)))
            {
                forgotten++;
            }
        }

        Assert.Equal(0, forgotten);
    }

    [Fact]
    public void ALeaseNotHeld_IsNotLetLapse_NorKnown()
    {
        var held = new HeldJobs();

        Assert.False(held.LetLapse("job-1", 7));
        Assert.False(held.Knows(new LeaseRef("job-1", 7)));
    }
}
