using Conveyor.Server;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A server cut off from the store cannot extend its leases: its handlers are cancelled when their lease expires as the
/// server knows it, not some time after, when another server's recoverer may already have started the job again.
/// </summary>
public sealed class LeaseExpiryCancelTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CutOffFromTheStore_ARunningHandler_IsCancelledAtItsLeasesExpiry_NotAfter()
    {
        var time = new FakeTimeProvider();
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore(time));
        control.Available = false;
        var held = new HeldJobs();

        // Off the extender's half-period checks (every 5 s): the old check saw it 3 s late.
        var expiry = time.GetUtcNow() + TimeSpan.FromSeconds(27);
        var run = new RunningJob(LeasedJobs.Create("job-1", 1) with { LeaseExpiresAt = expiry }) { Started = true };
        held.Add(run);
        var extender = new LeaseExtender(store, held, "server", LeaseDuration, time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = extender.RunAsync(stop.Token);

        while (time.GetUtcNow() + TimeSpan.FromSeconds(1) < expiry)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }

        Assert.False(run.Token.IsCancellationRequested, "the handler was cancelled before its lease expired");
        time.Advance(expiry - time.GetUtcNow());

        await Eventually.HoldsAsync(() => run.Token.IsCancellationRequested, because: "the handler to be cancelled at its lease's expiry");
        Assert.Equal(StopReason.LeaseLost, run.Reason);

        await stop.CancelAsync();
        await running;
    }
}
