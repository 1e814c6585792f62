using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>Brings the default queue, paced at one job per period, to the point where its dequeues go out on their own.</summary>
internal static class PacedQueue
{
    /// <summary>Enqueues three jobs to the paced default queue and waits until one has run and two wait their turn.</summary>
    public static async Task EnqueueUntilPacedAsync(ServerHarness server, IJobStore store)
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await server.Client.EnqueueAsync(new EchoJob($"paced {i}"))).JobId);
        }

        await Eventually.HoldsAsync(async () =>
        {
            var jobs = await Task.WhenAll(ids.Select(async id => (await store.GetAsync(TenantId.Default, id, CancellationToken.None))!));
            return jobs.Count(static j => j.State == JobState.Succeeded) == 1 && jobs.Count(static j => j.State == JobState.Pending) == 2;
        }, because: "one job starts and the queue is paced");
    }
}
