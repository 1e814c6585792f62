namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Deletes up to $3 of queue $1's oldest jobs of one finished class beyond its newest $2 (completion time, then
    // seq). The boundary is the newest job that goes: an index walk over the kept jobs (migration 0006), then the
    // oldest $3 up to it. Rows another transaction holds are skipped, as in the purge. {0} is the class's state
    // condition, which must match its partial index. Returns the rows deleted (the command's row count).
    private const string TrimTemplate = """
        WITH boundary AS (
            SELECT completed_at, seq FROM :"schema".jobs
            WHERE queue = $1 AND {0}
            ORDER BY completed_at DESC, seq DESC
            OFFSET $2 LIMIT 1
        ), doomed AS (
            SELECT j.id FROM :"schema".jobs j, boundary b
            WHERE j.queue = $1 AND j.{0} AND (j.completed_at, j.seq) <= (b.completed_at, b.seq)
            ORDER BY j.completed_at, j.seq
            LIMIT $3
            FOR UPDATE OF j SKIP LOCKED
        )
        DELETE FROM :"schema".jobs WHERE id IN (SELECT id FROM doomed)
        """;

    private string TrimSucceededSql => field ??= Sql(string.Format(System.Globalization.CultureInfo.InvariantCulture, TrimTemplate, "state = 'succeeded'"));

    private string TrimUnsuccessfulSql => field ??= Sql(string.Format(System.Globalization.CultureInfo.InvariantCulture, TrimTemplate, "state IN ('partial', 'failed', 'cancelled')"));

    /// <inheritdoc />
    /// <remarks>
    /// One DELETE per capped class (succeeded, then the others with what is left of the limit), each through its
    /// partial index by queue and completion time, so a batch costs the kept count plus the batch in index entries.
    /// </remarks>
    public ValueTask<int> TrimFinishedAsync(string queue, int? keepSucceeded, int? keepFailed, int limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TrimFinishedCoreAsync(queue, keepSucceeded, keepFailed, limit, token), cancellationToken);

    private async ValueTask<int> TrimFinishedCoreAsync(string queue, int? keepSucceeded, int? keepFailed, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(keepSucceeded ?? 0, nameof(keepSucceeded));
        ArgumentOutOfRangeException.ThrowIfNegative(keepFailed ?? 0, nameof(keepFailed));
        try
        {
            var deleted = 0;
            if (keepSucceeded is { } keep && limit > 0)
            {
                deleted += await TrimAsync(TrimSucceededSql, queue, keep, limit, cancellationToken).ConfigureAwait(false);
            }

            if (keepFailed is { } keepOthers && deleted < limit)
            {
                deleted += await TrimAsync(TrimUnsuccessfulSql, queue, keepOthers, limit - deleted, cancellationToken).ConfigureAwait(false);
            }

            return deleted;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    private async ValueTask<int> TrimAsync(string sql, string queue, int keep, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(P(queue));
        command.Parameters.Add(P((long)keep));
        command.Parameters.Add(P((long)limit));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
