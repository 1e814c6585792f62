using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A duplicate's begin that waits for the key's row while the owner settles it must answer with the record as the owner
/// left it. Under READ COMMITTED a statement that waited for a row lock still reads with the snapshot it took before the
/// wait, so the begin read a key completed meanwhile as still in progress, and the duplicate was parked for a whole
/// lease before it was skipped.
/// </summary>
public sealed class PostgresIdempotencyBeginRaceTests : PostgresStoreTestBase
{
    private const string Key = "default/note:notify/note-1";

    private static readonly LeaseRef Owner = new("job-owner", 1);

    [PostgresFact]
    public async Task ABeginThatWaitsWhileTheOwnerCompletesTheKey_SeesItDone()
    {
        Assert.Equal(IdempotencyBeginOutcome.Started, (await BeginAsync(Owner)).Outcome);
        await using var connection = await Schema.OpenConnectionAsync();
        await using var owner = await HoldTheRecordAsync(connection);
        var duplicate = Task.Run(async () => await BeginAsync(new LeaseRef("job-duplicate", 1)));
        await WaitForTheBeginToWaitAsync(connection);

        var finishedAt = Time.GetUtcNow();
        await using (var complete = new NpgsqlCommand(
            $"""UPDATE "{Schema.Name}".idempotency_records SET state = 'done', expires_at = $1, finished_at = $2 WHERE key = $3""", connection, owner))
        {
            complete.Parameters.Add(new NpgsqlParameter { Value = finishedAt.AddDays(1) });
            complete.Parameters.Add(new NpgsqlParameter { Value = finishedAt });
            complete.Parameters.Add(new NpgsqlParameter { Value = Key });
            Assert.Equal(1, await complete.ExecuteNonQueryAsync());
        }

        await owner.CommitAsync();

        Assert.Equal(IdempotencyBeginResult.AlreadyDone(Owner.JobId, finishedAt), await duplicate);
    }

    [PostgresFact]
    public async Task ABeginThatWaitsWhileTheOwnerReleasesTheKey_StartsIt()
    {
        Assert.Equal(IdempotencyBeginOutcome.Started, (await BeginAsync(Owner)).Outcome);
        await using var connection = await Schema.OpenConnectionAsync();
        await using var owner = await HoldTheRecordAsync(connection);
        var duplicate = Task.Run(async () => await BeginAsync(new LeaseRef("job-duplicate", 1)));
        await WaitForTheBeginToWaitAsync(connection);

        await ExecuteAsync(connection, $"""DELETE FROM "{Schema.Name}".idempotency_records WHERE key = '{Key}'""");
        await owner.CommitAsync();

        Assert.Equal(IdempotencyBeginResult.Started, await duplicate);
        Assert.Equal(IdempotencyBeginOutcome.InProgress, (await BeginAsync(new LeaseRef("job-third", 1))).Outcome);
    }

    /// <summary>The owner's transaction, holding the key's row as the owner's completion or release does.</summary>
    private async Task<NpgsqlTransaction> HoldTheRecordAsync(NpgsqlConnection connection)
    {
        var transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".idempotency_records WHERE key = '{Key}' FOR UPDATE""");
        return transaction;
    }

    private async Task WaitForTheBeginToWaitAsync(NpgsqlConnection owner) =>
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%idempotency_records%' AND query LIKE '%{Schema.Name}%' AND pid <> {owner.ProcessID}") > 0,
            because: "the duplicate's begin to wait for the key's row");

    private async Task<IdempotencyBeginResult> BeginAsync(LeaseRef owner) =>
        (await Store.TryBeginIdempotencyKeysAsync([new IdempotencyBegin(Key, owner, Time.GetUtcNow().AddMinutes(1))], CancellationToken.None))[0];
}
