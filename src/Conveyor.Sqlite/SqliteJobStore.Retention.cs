using Conveyor.Sqlite.Internal;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One write transaction: up to two DELETEs (succeeded, then the others with what is left of the limit), each
    /// through its partial index by queue and completion time (migration 0006), so a batch costs the kept count
    /// plus the batch in index entries, not the queue's history.
    /// </remarks>
    public ValueTask<int> TrimFinishedAsync(string queue, int? keepSucceeded, int? keepFailed, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(keepSucceeded ?? 0, nameof(keepSucceeded));
        ArgumentOutOfRangeException.ThrowIfNegative(keepFailed ?? 0, nameof(keepFailed));
        if (limit == 0 || (keepSucceeded is null && keepFailed is null))
        {
            return ValueTask.FromResult(0);
        }

        return WriteAsync((queue, keepSucceeded, keepFailed, limit), static (_, session, request) => session.InTransaction(request, static (s, r) =>
        {
            var deleted = r.keepSucceeded is { } keep ? Trim(s, SqlStatement.TrimSucceeded, r.queue, keep, r.limit) : 0;
            if (r.keepFailed is { } keepOthers && deleted < r.limit)
            {
                deleted += Trim(s, SqlStatement.TrimUnsuccessful, r.queue, keepOthers, r.limit - deleted);
            }

            return deleted;
        }), cancellationToken);
    }

    private static int Trim(SqliteSession session, SqlStatement statement, string queue, int keep, int limit) =>
        session.Command(statement).Bind("@queue", queue).Bind("@keep", keep).Bind("@limit", limit).ExecuteNonQuery();
}
