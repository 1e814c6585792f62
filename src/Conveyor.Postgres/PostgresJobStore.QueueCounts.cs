namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Moves the committed deltas the triggers appended (migration 0007) into queue_counts, in one statement. Two folds
    // at once are safe: a delta row is deleted, and so counted, by one of them only; the upsert takes the counter rows
    // in (queue, state) order, so two folds cannot deadlock. Queues whose counts all reached 0 are dropped.
    private const string FoldQueueCountsTemplate = """
        WITH moved AS (
            DELETE FROM :"schema".queue_count_deltas RETURNING queue, state, jobs
        )
        INSERT INTO :"schema".queue_counts AS c (queue, state, jobs)
        SELECT queue, state, sum(jobs) FROM moved GROUP BY queue, state ORDER BY queue, state
        ON CONFLICT (queue, state) DO UPDATE SET jobs = c.jobs + excluded.jobs
        """;

    private const string DropEmptyQueueCountsTemplate = "DELETE FROM :\"schema\".queue_counts WHERE jobs = 0";

    /// <summary>The shortest time between two folds by this store.</summary>
    private static readonly TimeSpan FoldInterval = TimeSpan.FromSeconds(1);

    private long _lastFold;

    private string FoldQueueCountsSql => field ??= Sql(FoldQueueCountsTemplate);

    private string DropEmptyQueueCountsSql => field ??= Sql(DropEmptyQueueCountsTemplate);

    /// <summary>
    /// Folds the queue-count deltas at most once per <see cref="FoldInterval"/>, from the janitor's purge and the
    /// statistics read, so that the deltas a read adds up hold about a second of writes, not the table's history. The
    /// counts are right without it (a read adds the deltas); it only keeps the read small.
    /// </summary>
    private async ValueTask FoldQueueCountsIfDueAsync(CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref _lastFold);
        if (last != 0 && _time.GetElapsedTime(last) < FoldInterval)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lastFold, _time.GetTimestamp(), last) != last)
        {
            return;
        }

        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(new Npgsql.NpgsqlBatchCommand(FoldQueueCountsSql));
        batch.BatchCommands.Add(new Npgsql.NpgsqlBatchCommand(DropEmptyQueueCountsSql));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
