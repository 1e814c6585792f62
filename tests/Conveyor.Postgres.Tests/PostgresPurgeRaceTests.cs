using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// The purge deletes expired records (idempotency keys, rate lines, batches) that it picked by a subquery, and a record
/// another transaction renews while the purge waits for its row is not expired any more: the purge must read it again
/// and keep it. Found by the idempotency crash test: a key begun by a recovered job at the moment the janitor purged
/// the dead worker's record was deleted under it, and the key's duplicate ran the handler beside it.
/// </summary>
public sealed class PostgresPurgeRaceTests : PostgresStoreTestBase
{
    [PostgresFact]
    public async Task AnIdempotencyKeyBegunAgainWhileThePurgeWaitsForIt_IsKept_AndItsDuplicateWaits()
    {
        const string key = "default/note:notify/note-1";
        var dead = new LeaseRef("job-dead", 1);
        Assert.Equal(IdempotencyBeginOutcome.Started, await BeginAsync(key, dead));
        Time.Advance(TimeSpan.FromMinutes(2)); // the dead attempt's record has expired

        // The begin of a recovered attempt, in a transaction that holds the record's row until it commits.
        await using var connection = await Schema.OpenConnectionAsync();
        await using var begin = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(
            $"""UPDATE "{Schema.Name}".idempotency_records SET job_id = 'job-recovered', lease_token = 2, expires_at = $1 WHERE key = $2""", connection, begin))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = Time.GetUtcNow().AddMinutes(1) });
            command.Parameters.Add(new NpgsqlParameter { Value = key });
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var purge = Store.PurgeExpiredAsync(100, CancellationToken.None).AsTask();
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%idempotency_records%' AND query LIKE '%{Schema.Name}%'") > 0,
            because: "the purge to wait for the record's row");
        await begin.CommitAsync();
        await purge;

        // The recovered attempt still holds its key: the duplicate of the same work waits for it instead of running.
        Assert.Equal(IdempotencyBeginOutcome.InProgress, await BeginAsync(key, new LeaseRef("job-duplicate", 1)));
    }

    [PostgresFact]
    public async Task ARateLineTakenFromWhileThePurgeWaitsForIt_IsKept()
    {
        // A rate line whose permits were all given back (its theoretical arrival time passed): the purge's to delete.
        await using var connection = await Schema.OpenConnectionAsync();
        await using (var insert = new NpgsqlCommand($"""INSERT INTO "{Schema.Name}".rate_limiters (key, tat) VALUES ('default/emails', $1)""", connection))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = Time.GetUtcNow().AddSeconds(-1) });
            await insert.ExecuteNonQueryAsync();
        }

        // A take from the line, in a transaction that holds its row until it commits: the line is in use again.
        await using var take = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand($"""UPDATE "{Schema.Name}".rate_limiters SET tat = $1 WHERE key = 'default/emails'""", connection, take))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = Time.GetUtcNow().AddMinutes(1) });
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var purge = Store.PurgeExpiredAsync(100, CancellationToken.None).AsTask();
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%rate_limiters%' AND query LIKE '%{Schema.Name}%'") > 0,
            because: "the purge to wait for the line's row");
        await take.CommitAsync();
        await purge;

        // The take's line stays, so the next take counts it (deleted, the line would start full again: a burst too many).
        Assert.Equal(1L, await Schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.rate_limiters WHERE key = 'default/emails'"));
    }

    private async Task<IdempotencyBeginOutcome> BeginAsync(string key, LeaseRef owner) =>
        (await Store.TryBeginIdempotencyKeysAsync([new IdempotencyBegin(key, owner, Time.GetUtcNow().AddMinutes(1))], CancellationToken.None))[0].Outcome;
}
