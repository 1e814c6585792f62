using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// The begins of one server's attempts share a batch that locks their idempotency records in key order; an
/// acknowledgement that completes or releases several keys can hold one of them and reach for another, and PostgreSQL
/// then rolls one side back. The begin runs again: answered as a store fault, a fail-open handler would run without its
/// key (and a fail-closed one wait five seconds for nothing).
/// </summary>
public sealed class PostgresIdempotencyDeadlockTests : PostgresStoreTestBase
{
    protected override Action<PostgresStoreOptions> ConfigureStore => DeadlockTimeoutOfSeconds(4);

    [PostgresFact]
    public async Task BeginsRolledBackForADeadlock_RunAgain_AndStartTheirKeys()
    {
        string[] keys = ["default/t/k1", "default/t/k2"];
        Assert.All(await BeginAsync(keys, new LeaseRef("job-dead", 1)), r => Assert.Equal(IdempotencyBeginOutcome.Started, r.Outcome));
        Time.Advance(TimeSpan.FromMinutes(2)); // expired: the next begins take them over

        // Another transaction holds the second record and looks for cycles later than the begins do, so that
        // PostgreSQL rolls the begins back.
        await using var connection = await Schema.OpenConnectionAsync();
        await ExecuteAsync(connection, "SET deadlock_timeout = '60s'");
        await using var other = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".idempotency_records WHERE key = '{keys[1]}' FOR UPDATE""");

        var begin = Task.Run(async () => await BeginAsync(keys, new LeaseRef("job-new", 1)));
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%idempotency_records%' AND query LIKE '%{Schema.Name}%' AND pid <> {connection.ProcessID}") > 0,
            because: "the begins to hold the first record and wait for the second");

        // Then the other transaction reaches for the first record: a cycle.
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".idempotency_records WHERE key = '{keys[0]}' FOR UPDATE""");
        await other.CommitAsync();

        Assert.All(await begin, r => Assert.Equal(IdempotencyBeginOutcome.Started, r.Outcome));
        Assert.All(await BeginAsync(keys, new LeaseRef("job-duplicate", 1)), r => Assert.Equal(IdempotencyBeginOutcome.InProgress, r.Outcome));
    }

    private async Task<IReadOnlyList<IdempotencyBeginResult>> BeginAsync(string[] keys, LeaseRef owner) =>
        await Store.TryBeginIdempotencyKeysAsync([.. keys.Select(k => new IdempotencyBegin(k, owner, Time.GetUtcNow().AddMinutes(1)))], CancellationToken.None);
}
