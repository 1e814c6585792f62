using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    private const string AllOrNoneSavepoint = "conveyor_enqueue_all";

    /// <inheritdoc />
    /// <remarks>
    /// One transaction: the jobs are inserted by one statement (as <see cref="EnqueueManyAsync"/> inserts them) and the
    /// transaction commits only when every job was stored; a refusal or any failure rolls it back, and its NOTIFY with
    /// it. Inside an ambient <c>TransactionScope</c> the insert runs under a savepoint of that transaction instead.
    /// </remarks>
    public ValueTask<EnqueueAllResult> EnqueueAllOrNoneAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => EnqueueAllOrNoneCoreAsync(jobs, token), cancellationToken);

    private async ValueTask<EnqueueAllResult> EnqueueAllOrNoneCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, Now()) is { } repeated)
        {
            return repeated;
        }

        if (jobs.Count == 0)
        {
            return EnqueueAllResult.Stored([]);
        }

        try
        {
            var enlisted = System.Transactions.Transaction.Current is not null;
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            // In a transaction of its own (not enlisted), run again when PostgreSQL breaks a deadlock by rolling it back
            // (EnqueueManyAsync says where jobs that wait meet an acknowledgement).
            var result = enlisted
                ? await EnqueueAllOrNoneOnAsync(connection, null, jobs, string.Empty, cancellationToken).ConfigureAwait(false)
                : await RunAgainAfterConflictsAsync(
                    async () => await EnqueueAllOrNoneOnAsync(connection, null, jobs, _notifier.EchoMark, cancellationToken).ConfigureAwait(false),
                    cancellationToken).ConfigureAwait(false);
            if (!enlisted && result.Results.Any(static r => r.State == JobState.Pending))
            {
                _signal.Set();
            }

            return result;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary>
    /// Stores every job or none on the caller's connection, inside the caller's transaction: the jobs exist if and only
    /// if that transaction commits, and workers are notified only when it commits. A refusal leaves the caller's
    /// transaction usable (the insert ran under a savepoint, rolled back).
    /// </summary>
    /// <param name="connection">An open connection to the database that holds the store's schema.</param>
    /// <param name="transaction">The caller's transaction; null to run in an ambient <c>TransactionScope</c>, or, without
    /// one, in a transaction of this call's own on the connection.</param>
    /// <param name="jobs">The jobs, with every default applied (<c>IEventPublisher.CreateJobs</c>, <c>IJobClient.CreateJob</c>).</param>
    /// <param name="cancellationToken">Cancels the statements.</param>
    /// <returns>Every job stored, or none and the refused job and its holder.</returns>
    /// <remarks>A transport failure throws <see cref="JobStoreUnavailableException"/>; the caller's transaction is then lost with its connection.</remarks>
    public async Task<EnqueueAllResult> EnqueueAllOrNoneAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(jobs);
        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, Now()) is { } repeated)
        {
            return repeated;
        }

        if (jobs.Count == 0)
        {
            return EnqueueAllResult.Stored([]);
        }

        try
        {
            // The caller commits, so this store cannot wake its own workers itself: the NOTIFY carries no echo mark.
            return await EnqueueAllOrNoneOnAsync(connection, transaction, jobs, echoMark: string.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsUnavailableOnCallersConnection(exception))
        {
            throw Wrap(exception);
        }
    }

    /// <summary>
    /// In the caller's (or the ambient) transaction under a savepoint, or else in a transaction of its own;
    /// <paramref name="before"/> (a batch's record) runs first in the same savepoint or transaction.
    /// </summary>
    private async Task<EnqueueAllResult> EnqueueAllOrNoneOnAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        IReadOnlyList<NewJob> jobs,
        string echoMark,
        CancellationToken cancellationToken,
        Func<NpgsqlConnection, NpgsqlTransaction?, DateTimeOffset, Task<bool>>? before = null)
    {
        if (transaction is not null || System.Transactions.Transaction.Current is not null)
        {
            await ExecuteAsync(connection, transaction, $"SAVEPOINT {AllOrNoneSavepoint}", cancellationToken).ConfigureAwait(false);
            EnqueueAllResult result;
            try
            {
                if (before is not null)
                {
                    await before(connection, transaction, Now()).ConfigureAwait(false);
                }

                result = await InsertAllOrNoneAsync(connection, transaction, jobs, echoMark, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!PostgresFaults.IsUnavailable(exception) || PostgresFaults.IsReadOnly(exception))
            {
                // The caller's transaction stays usable after an error of the insert itself.
                await ExecuteAsync(connection, transaction, $"ROLLBACK TO SAVEPOINT {AllOrNoneSavepoint}; RELEASE SAVEPOINT {AllOrNoneSavepoint}", cancellationToken).ConfigureAwait(false);
                throw;
            }

            await ExecuteAsync(
                connection,
                transaction,
                result.AllStored ? $"RELEASE SAVEPOINT {AllOrNoneSavepoint}" : $"ROLLBACK TO SAVEPOINT {AllOrNoneSavepoint}; RELEASE SAVEPOINT {AllOrNoneSavepoint}",
                cancellationToken).ConfigureAwait(false);
            return result;
        }

        await using var own = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (before is not null)
        {
            await before(connection, own, Now()).ConfigureAwait(false);
        }

        var stored = await InsertAllOrNoneAsync(connection, own, jobs, echoMark, cancellationToken).ConfigureAwait(false);
        if (stored.AllStored)
        {
            await own.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await own.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>
    /// Inserts the jobs in one statement inside the open transaction. When some were refused, the caller rolls back;
    /// the refusal names the first refused job whose holder is still there.
    /// </summary>
    private async Task<EnqueueAllResult> InsertAllOrNoneAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<NewJob> jobs, string echoMark, CancellationToken cancellationToken)
    {
        var now = Now();
        var stored = await InsertAsync(connection, transaction, [.. jobs], now, echoMark, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            var results = new EnqueueResult[jobs.Count];
            for (var i = 0; i < jobs.Count; i++)
            {
                results[i] = new EnqueueResult(EnqueueOutcome.Enqueued, jobs[i].Id, StateAt(jobs[i], now), jobs[i].Queue, now);
            }

            await LinkFlowsAsync(connection, transaction, jobs, results, now, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i].IsDuplicate)
                {
                    return EnqueueAllResult.Refused(i, results[i]);
                }
            }

            return EnqueueAllResult.Stored(results);
        }

        var refused = Enumerable.Range(0, jobs.Count).Where(i => !stored.Contains(jobs[i].Id)).ToArray();
        var holders = await FindHoldersAsync(connection, transaction, refused.Select(i => jobs[i]).ToArray(), cancellationToken).ConfigureAwait(false);
        for (var k = 0; k < refused.Length; k++)
        {
            if (holders[k] is { } holder)
            {
                return EnqueueAllResult.Refused(refused[k], holder);
            }
        }

        // The holder finished or was deleted between the insert and the look-up: the job was refused all the same.
        var first = jobs[refused[0]];
        return EnqueueAllResult.Refused(refused[0], new EnqueueResult(EnqueueOutcome.DuplicateId, first.Id, JobState.Succeeded, first.Queue, now));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
