using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// What an acknowledgement of batch members costs on top of plain jobs' (jobs_flow_finished(), migration 0033): the
/// links of the jobs it finishes are looked up once, and a round with nothing waiting for them ends there.
/// </summary>
public sealed class PostgresMemberAcknowledgementTests : PostgresStoreTestBase
{
    [PostgresFact]
    public async Task MembersNothingWaitsFor_AcknowledgedTogether_HaveTheirLinksProbedOnce()
    {
        // 20 of a batch's 40 members: the batch does not finish and nothing waits for them. Until 0033 the trigger probed
        // their links twice (to lock what waited for them, then to pick the jobs to resolve): 40 or more scans of the
        // links' index for 20 members. Counted in the acknowledging transaction, before it is rolled back.
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = Enumerable.Range(0, 40).Select(_ => TestJobs.New() with { BatchId = batch.Id }).ToList();
        Assert.True((await Store.CreateBatchAsync(batch, members, CancellationToken.None)).AllStored);
        var leased = await Store.DequeueAsync(TestJobs.Dequeue(40), CancellationToken.None);
        Assert.Equal(40, leased.Count);
        var acknowledged = leased.Take(20).ToList();

        await using (var connection = await Schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var ids = string.Join(", ", acknowledged.Select(j => $"'{j.Id}'"));
            var tokens = string.Join(", ", acknowledged.Select(j => j.LeaseToken));
            await ExecuteAsync(connection, $"""
                SELECT {PostgresJobStore.AcknowledgementPlan};
                PREPARE acknowledge (text[], bigint[], int[], timestamptz[], jsonb[], bytea[], text[], timestamptz, text, text[], text, text[]) AS
                {PostgresSchemaName.Substitute(PostgresJobStore.AcknowledgeTemplate, Schema.Name)};
                EXECUTE acknowledge(ARRAY[{ids}], ARRAY[{tokens}]::bigint[], array_fill(0, ARRAY[20]),
                    array_fill(NULL::timestamptz, ARRAY[20]), array_fill('[]'::jsonb, ARRAY[20]), array_fill(NULL::bytea, ARRAY[20]),
                    array_fill(NULL::text, ARRAY[20]), now(), 'channel', array_fill(NULL::text, ARRAY[20]), '', ARRAY[]::text[]);
                """);
            await using var scans = connection.CreateCommand();
            scans.CommandText = $"""
                SELECT pg_stat_get_xact_numscans('"{Schema.Name}".job_dependencies_pkey'::regclass)
                """;
            var count = (long)(await scans.ExecuteScalarAsync())!;
            Assert.InRange(count, 1, acknowledged.Count);
            await transaction.RollbackAsync();
        }

        Assert.Equal(20, await Store.AcknowledgeManyAsync(acknowledged.Select(TestJobs.Succeeded).ToList(), CancellationToken.None));
        var stored = await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None);
        Assert.Equal(20, stored!.Succeeded);
        Assert.Null(stored.FinishedAt);
    }
}
