using System.Globalization;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // Both signal operations run as a batch of two statements in one implicit transaction: the first locks the job's
    // row, the second does the work. Under READ COMMITTED each statement reads its own snapshot, taken after the lock is
    // granted, so a wait sees a delivery that committed while it waited for the lock, and a delivery sees the park (one
    // statement alone would read the job's steps as of before the lock wait and could park past a delivered signal).
    // $1 id.
    private const string LockJobTemplate = """SELECT 1 FROM :"schema".jobs WHERE id = $1 FOR UPDATE""";

    // The wait: $1 id, $2 lease token, $3 the signal step names (text[]), $4 until, $5 now, $6 reason, $7 whether $4 is
    // the deadline of the wait for the one name. No row: the lease is lost. Otherwise (outcome as JobSignalWaitOutcome,
    // the stored signal's result or null): a stored signal of any of the names wins (the first in $3's order; an empty
    // result is a recorded timeout), then a cancel request, then the deadline (recorded as an empty signal step when $7;
    // otherwise $4 is no one wait's deadline, and each decides its own at the next attempt), and otherwise the job is
    // parked as a snooze parks it: scheduled until $4, the attempt not counted (nor its start, as AcknowledgeTemplate
    // says), the reason kept.
    private const string AwaitSignalTemplate = """
        WITH job AS (
            SELECT id, attempts, cancel_requested FROM :"schema".jobs
            WHERE id = $1 AND state = 'active' AND lease_token = $2
        ), stored AS (
            SELECT s.result FROM :"schema".job_steps s JOIN job ON s.job_id = job.id WHERE s.name = ANY($3)
            ORDER BY array_position($3, s.name::text) LIMIT 1
        ), timed_out AS (
            INSERT INTO :"schema".job_steps (job_id, name, ord, attempt, result, completed_at)
            SELECT job.id, $3[1], (SELECT COALESCE(MAX(ord), 0) + 1 FROM :"schema".job_steps WHERE job_id = job.id), job.attempts, ''::bytea, $5
            FROM job WHERE NOT job.cancel_requested AND NOT EXISTS (SELECT 1 FROM stored) AND $4 <= $5 AND $7
            RETURNING job_id
        ), parked AS (
            UPDATE :"schema".jobs j SET state = 'scheduled', attempts = greatest(j.attempts - 1, 0),
                started_at = CASE WHEN j.attempts > 1 THEN j.started_at END, scheduled_at = $4,
                snooze_reason = $6, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = $5
            FROM job WHERE j.id = job.id AND NOT job.cancel_requested AND NOT EXISTS (SELECT 1 FROM stored) AND $4 > $5
            RETURNING j.id
        )
        SELECT CASE WHEN EXISTS (SELECT 1 FROM stored) THEN CASE WHEN (SELECT length(result) FROM stored) = 0 THEN 3 ELSE 2 END
                    WHEN job.cancel_requested THEN 4
                    WHEN EXISTS (SELECT 1 FROM timed_out) OR $4 <= $5 THEN 3
                    WHEN EXISTS (SELECT 1 FROM parked) THEN 1
                    ELSE 0 END,
               (SELECT result FROM stored)
        FROM job
        """;

    // The delivery: $1 tenant, $2 id, $3 signal step name, $4 wait step name, $5 payload, $6 now, $7 jobs channel,
    // $8 now in .NET ticks (as the wait step holds its deadline), $9 how the snooze reason of a job parked for signals
    // begins (JobSignal.WaitReasonStart), $10 the signal's name as that reason names it (JobSignal.QuotedName), found
    // before the first $11 (JobSignal.WaitReasonUntil): byte for byte, as left() and strpos() compare under the column's
    // deterministic collation. No row: no such job of the tenant. Otherwise (state before, stored signal's length or
    // null, stored now, resumed, timed out now, the job's deadline passed): a finished job, one past its deadline (it
    // fails at its next attempt without reading its signals) or a signal stored before (delivered, or the empty step of
    // a timed-out wait) stores nothing; a wait whose deadline passed before any worker recorded it gets its timeout
    // recorded (the empty step) instead of the signal; a job parked waiting for it now (scheduled, with its wait's step,
    // and a snooze reason of a park that names it, alone or with other signals: a wait step of an earlier attempt does
    // not make a job snoozed for another reason a parked one) becomes pending now, as a requeue makes it, without its
    // wait's snooze reason (it waits no longer), and its queue is NOTIFYed.
    private const string SignalTemplate = """
        WITH target AS (
            SELECT id, state, coalesce(deadline <= $6, false) AS past_deadline,
                   coalesce(left(snooze_reason, length($9)) = $9
                            AND strpos(snooze_reason, $10) BETWEEN 1 AND strpos(snooze_reason, $11), false) AS parked
            FROM :"schema".jobs WHERE tenant = $1 AND id = $2
        ), stored AS (
            SELECT s.result FROM :"schema".job_steps s JOIN target t ON s.job_id = t.id WHERE s.name = $3
        ), waiting AS (
            SELECT convert_from(w.result, 'UTF8') AS until FROM :"schema".job_steps w JOIN target t ON w.job_id = t.id WHERE w.name = $4
        ), expired AS (
            SELECT 1 FROM waiting WHERE CASE WHEN until ~ '^[0-9]{1,19}$' THEN until::numeric <= $8::numeric ELSE false END
        ), inserted AS (
            INSERT INTO :"schema".job_steps (job_id, name, ord, attempt, result, completed_at)
            SELECT t.id, $3, (SELECT COALESCE(MAX(ord), 0) + 1 FROM :"schema".job_steps WHERE job_id = t.id), 0,
                   CASE WHEN EXISTS (SELECT 1 FROM expired) THEN ''::bytea ELSE $5 END, $6
            FROM target t
            WHERE t.state NOT IN ('succeeded', 'partial', 'failed', 'cancelled') AND NOT t.past_deadline
              AND NOT EXISTS (SELECT 1 FROM stored)
            RETURNING job_id
        ), resumed AS (
            UPDATE :"schema".jobs j SET state = 'pending', scheduled_at = $6, enqueued_at = $6, updated_at = $6, snooze_reason = NULL
            FROM target t
            WHERE j.id = t.id AND t.state = 'scheduled' AND t.parked AND EXISTS (SELECT 1 FROM inserted)
              AND EXISTS (SELECT 1 FROM waiting) AND NOT EXISTS (SELECT 1 FROM expired)
            RETURNING j.queue
        ), notified AS (
            SELECT pg_notify($7, queue) FROM resumed
        )
        SELECT t.state, (SELECT length(result) FROM stored), (SELECT count(*) FROM inserted),
               (SELECT count(*) FROM resumed) + 0 * (SELECT count(*) FROM notified), EXISTS (SELECT 1 FROM expired),
               t.past_deadline
        FROM target t
        """;

    private string LockJobSql => field ??= Sql(LockJobTemplate);

    private string AwaitSignalSql => field ??= Sql(AwaitSignalTemplate);

    private string SignalSql => field ??= Sql(SignalTemplate);

    /// <inheritdoc />
    public ValueTask<JobSignalWait> AwaitSignalAsync(string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => AwaitSignalCoreAsync(jobId, leaseToken, names, until, recordTimeout, reason, token), cancellationToken);

    private async ValueTask<JobSignalWait> AwaitSignalCoreAsync(string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(reason);
        JobSignal.ValidateNames(names, recordTimeout);
        try
        {
            string?[] stepNames = [.. names.Select(JobSignal.StepName)];
            await using var batch = LockedBatch(jobId, AwaitSignalSql, P(jobId), P(leaseToken), TextArray(stepNames), TimestampTz(until), TimestampTz(Now()), Text(reason), P(recordTimeout));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return new JobSignalWait(JobSignalWaitOutcome.LeaseLost);
            }

            var outcome = (JobSignalWaitOutcome)reader.GetInt32(0);
            return outcome == JobSignalWaitOutcome.Delivered
                ? new JobSignalWait(outcome, reader.GetFieldValue<byte[]>(1))
                : new JobSignalWait(outcome);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<JobSignalResult> SignalAsync(string tenant, string jobId, string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => SignalCoreAsync(tenant, jobId, name, payload, token), cancellationToken);

    private async ValueTask<JobSignalResult> SignalCoreAsync(string tenant, string jobId, string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        JobSignal.Validate(name, payload.Length);
        try
        {
            JobSignalResult result;
            var now = Now();
            await using (var batch = LockedBatch(
                jobId, SignalSql, P(tenant), P(jobId), Text(JobSignal.StepName(name)), Text(JobSignal.WaitStepName(name)),
                P(payload.ToArray()), TimestampTz(now), P(_jobsChannel), Text(now.UtcTicks.ToString(CultureInfo.InvariantCulture)),
                Text(JobSignal.WaitReasonStart), Text(JobSignal.QuotedName(name)), Text(JobSignal.WaitReasonUntil)))
            {
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return JobSignalResult.NotFound;
                }

                var state = JobStateExtensions.FromStorageName(reader.GetString(0));
                result = state.IsFinished() ? JobSignalResult.Finished
                    : reader.GetBoolean(5) ? JobSignalResult.DeadlinePassed
                    : !reader.IsDBNull(1) ? (reader.GetInt32(1) == 0 ? JobSignalResult.WaitTimedOut : JobSignalResult.AlreadyDelivered)
                    : reader.GetBoolean(4) ? JobSignalResult.WaitTimedOut
                    : reader.GetInt64(3) > 0 ? JobSignalResult.Resumed
                    : JobSignalResult.Delivered;
            }

            if (result == JobSignalResult.Resumed)
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

    /// <summary>The row lock of <paramref name="jobId"/>, then <paramref name="sql"/> with its parameters, in one implicit transaction.</summary>
    private NpgsqlBatch LockedBatch(string jobId, string sql, params NpgsqlParameter[] parameters)
    {
        var batch = _dataSource.CreateBatch();
        var lockJob = new NpgsqlBatchCommand(LockJobSql);
        lockJob.Parameters.Add(P(jobId));
        batch.BatchCommands.Add(lockJob);
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(command);
        return batch;
    }
}
