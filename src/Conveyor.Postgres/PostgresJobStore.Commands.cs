using Conveyor.Storage;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Each command locks the job, decides from its state, and applies in one statement. The outer SELECT returns
    // the state the job had (no row: no such job in that tenant), from which the caller reads the result.

    // Cancel: scheduled, pending or retrying become cancelled at once (unique key released, retention starts); an
    // active job gets cancel_requested and a NOTIFY on the cancel channel (payload: its id), which the process
    // running it receives within milliseconds. $1 tenant, $2 id, $3 now, $4 cancel channel.
    private const string CancelTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs WHERE tenant = $1 AND id = $2 FOR UPDATE
        ), cancelled AS (
            UPDATE :"schema".jobs j SET state = 'cancelled', completed_at = $3, expires_at = $3 + j.retention,
                unique_held = false, updated_at = $3
            FROM target t
            WHERE j.id = t.id AND t.state IN ('scheduled', 'pending', 'retrying')
        ), requested AS (
            UPDATE :"schema".jobs j SET cancel_requested = true, updated_at = $3
            FROM target t
            WHERE j.id = t.id AND t.state = 'active'
            RETURNING j.id
        ), notified AS (
            SELECT pg_notify($4, r.id) FROM requested r
        )
        SELECT t.state, (SELECT count(*) FROM notified) FROM target t
        """;

    // Requeue: failed, cancelled, scheduled or retrying become pending now, attempts reset, errors kept; the
    // queue is NOTIFYed. $1 tenant, $2 id, $3 now, $4 jobs channel.
    private const string RequeueTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs WHERE tenant = $1 AND id = $2 FOR UPDATE
        ), requeued AS (
            UPDATE :"schema".jobs j SET state = 'pending', attempts = 0, enqueued_at = $3, completed_at = NULL,
                expires_at = NULL, cancel_requested = false, updated_at = $3
            FROM target t
            WHERE j.id = t.id AND t.state IN ('failed', 'cancelled', 'scheduled', 'retrying')
            RETURNING j.queue
        ), notified AS (
            SELECT pg_notify($4, r.queue) FROM requeued r
        )
        SELECT t.state, (SELECT count(*) FROM notified) FROM target t
        """;

    // Delete: any job that is not active. $1 tenant, $2 id.
    private const string DeleteTemplate = """
        WITH target AS (
            SELECT id, state FROM :"schema".jobs WHERE tenant = $1 AND id = $2 FOR UPDATE
        ), deleted AS (
            DELETE FROM :"schema".jobs j USING target t WHERE j.id = t.id AND t.state <> 'active'
        )
        SELECT t.state FROM target t
        """;

    private string CancelSql => field ??= Sql(CancelTemplate);

    private string RequeueSql => field ??= Sql(RequeueTemplate);

    private string DeleteSql => field ??= Sql(DeleteTemplate);

    /// <inheritdoc />
    public async ValueTask<JobCommandResult> CancelAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        var state = await RunCommandAsync(CancelSql, tenant, jobId, _cancelChannel, cancellationToken).ConfigureAwait(false);
        switch (state)
        {
            case null:
                return JobCommandResult.NotFound;
            case JobState.Active:
                // This process's own handlers hear it at once; others through the NOTIFY.
                _notifier.PublishCancellation(jobId);
                return JobCommandResult.Requested;
            case { } s when s.IsFinished():
                return JobCommandResult.NotAllowed;
            default:
                return JobCommandResult.Done;
        }
    }

    /// <inheritdoc />
    public async ValueTask<JobCommandResult> RequeueAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        var state = await RunCommandAsync(RequeueSql, tenant, jobId, _jobsChannel, cancellationToken).ConfigureAwait(false);
        switch (state)
        {
            case null:
                return JobCommandResult.NotFound;
            case JobState.Failed or JobState.Cancelled or JobState.Scheduled or JobState.Retrying:
                _signal.Set();
                return JobCommandResult.Done;
            default:
                return JobCommandResult.NotAllowed;
        }
    }

    /// <inheritdoc />
    public async ValueTask<JobCommandResult> DeleteAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        var state = await RunCommandAsync(DeleteSql, tenant, jobId, channel: null, cancellationToken).ConfigureAwait(false);
        return state switch
        {
            null => JobCommandResult.NotFound,
            JobState.Active => JobCommandResult.NotAllowed,
            _ => JobCommandResult.Done,
        };
    }

    /// <summary>Runs one of the command statements; returns the state the job had before, or null when there is no such job.</summary>
    private async ValueTask<JobState?> RunCommandAsync(string sql, string tenant, string jobId, string? channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            command.Parameters.Add(P(tenant));
            command.Parameters.Add(P(jobId));
            if (channel is not null)
            {
                command.Parameters.Add(TimestampTz(Now()));
                command.Parameters.Add(P(channel));
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? JobStateExtensions.FromStorageName(reader.GetString(0))
                : null;
        }
        catch (Exception exception) when (PostgresFaults.IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
