namespace Conveyor.Postgres.Tests;

/// <summary>
/// A store that answers reads and refuses writes (a standby reached by a multi-host connection string, a database made
/// read-only) still gives its queue statistics: the metrics' read of them is what <c>job_store_up</c> reports, and it is
/// documented to stay 1 for such a store. The read folds the count deltas first, a write, when a fold is due.
/// </summary>
public sealed class PostgresReadOnlyStatsTests : PostgresStoreTestBase
{
    [PostgresFact]
    public async Task QueueStats_OnAReadOnlySession_AreRead_WithoutTheFoldOfTheCounts()
    {
        await Store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        var readOnly = await Schema.CreateInitializedStoreAsync(Time, options => options.ConnectionString += ";Options=-c default_transaction_read_only=on");

        var stats = await readOnly.GetQueueStatsAsync(CancellationToken.None);

        Assert.Equal(1, Assert.Single(stats).Pending);
    }
}
