namespace Conveyor.Postgres.Tests;

/// <summary>
/// The purge's limit bounds one call's transaction, however PostgreSQL plans it. A plan that joins the jobs to their
/// locked pick by a nested loop runs the pick again for every job it reads, and a pick run again skips the rows the
/// DELETE already took, so it yields the next ones: the conformance suite saw 4 jobs deleted for a limit of 2 on a
/// schema whose statistics came from earlier tests, and on a store in service one call could have deleted every
/// expired job in one transaction. Here the planner is left no other plan than that one.
/// </summary>
public sealed class PostgresPurgeLimitTests : PostgresStoreTestBase
{
    protected override Action<PostgresStoreOptions>? ConfigureStore => options =>
        options.ConnectionString += ";Options=-c enable_hashjoin=off -c enable_mergejoin=off -c enable_material=off -c enable_hashagg=off -c enable_sort=off";

    [PostgresFact]
    public async Task Purge_PlannedAsANestedLoop_DeletesNoMoreThanItsLimit()
    {
        for (var i = 0; i < 5; i++)
        {
            var id = (await Store.EnqueueAsync(TestJobs.New() with { Retention = TimeSpan.FromMinutes(1) }, CancellationToken.None)).JobId;
            var job = Assert.Single(await Store.DequeueAsync(TestJobs.Dequeue(1), CancellationToken.None));
            Assert.Equal(id, job.Id);
            Assert.Equal(1, await Store.AcknowledgeManyAsync([TestJobs.Succeeded(job)], CancellationToken.None));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(2, await Store.PurgeExpiredAsync(2, CancellationToken.None));
        Assert.Equal(3L, await Schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.jobs"));
        Assert.Equal(3, await Store.PurgeExpiredAsync(10, CancellationToken.None));
    }
}
