using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One <c>BEGIN IMMEDIATE</c> transaction inserts the jobs as <see cref="EnqueueManyAsync"/> does and is rolled back
    /// when any was refused or anything failed, so another connection never sees a part of the list.
    /// </remarks>
    public async ValueTask<EnqueueAllResult> EnqueueAllOrNoneAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, _timeProvider.GetUtcNow()) is { } repeated)
        {
            return repeated;
        }

        if (jobs.Count == 0)
        {
            return EnqueueAllResult.Stored([]);
        }

        var (result, anyPending) = await WriteAsync(jobs, static (store, session, batch) => store.InsertAllOrNone(session, batch), cancellationToken)
            .ConfigureAwait(false);
        if (anyPending)
        {
            _signal.Fire();
        }

        return result;
    }

    private (EnqueueAllResult Result, bool AnyPending) InsertAllOrNone(SqliteSession session, IReadOnlyList<NewJob> jobs)
    {
        session.Begin();
        try
        {
            var (results, anyPending) = InsertJobs(session, jobs, allOrNone: true);
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i].IsDuplicate)
                {
                    session.RollbackQuietly();
                    return (EnqueueAllResult.Refused(i, results[i]), false);
                }
            }

            session.Commit();
            return (EnqueueAllResult.Stored(results), anyPending);
        }
        catch
        {
            session.RollbackQuietly();
            throw;
        }
    }
}
