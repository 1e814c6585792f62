using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public async ValueTask<JobSignalWait> AwaitSignalAsync(string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(reason);
        JobSignal.ValidateNames(names, recordTimeout);
        return await WriteAsync((jobId, leaseToken, names, until, recordTimeout, reason), static (store, session, w) =>
            session.InTransaction((store, w), static (s, state) => state.store.AwaitSignal(s, state.w.jobId, state.w.leaseToken, state.w.names, state.w.until, state.w.recordTimeout, state.w.reason)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<JobSignalResult> SignalAsync(string tenant, string jobId, string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        JobSignal.Validate(name, payload.Length);
        var result = await WriteAsync((tenant, jobId, name, payload), static (store, session, d) =>
            session.InTransaction((store, d), static (s, state) => state.store.Signal(s, state.d.tenant, state.d.jobId, state.d.name, state.d.payload)),
            cancellationToken).ConfigureAwait(false);
        if (result == JobSignalResult.Resumed)
        {
            _signal.Fire();
        }

        return result;
    }

    /// <summary>
    /// The wait, inside one write transaction: no delivery of any of <paramref name="names"/> can come between its reads
    /// and its write.
    /// </summary>
    private JobSignalWait AwaitSignal(SqliteSession session, string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason)
    {
        bool cancelRequested;
        int attempts;
        using (var reader = BindLease(session.Command(SqlStatement.FindLeasedJob), jobId, leaseToken).ExecuteReader())
        {
            if (!reader.Read())
            {
                return new JobSignalWait(JobSignalWaitOutcome.LeaseLost);
            }

            cancelRequested = reader.GetBoolean(0);
            attempts = reader.GetInt32(1);
        }

        foreach (var name in names)
        {
            var (signal, _) = FindSignalSteps(session, jobId, name);
            if (signal is not null)
            {
                return signal.Length == 0 ? new JobSignalWait(JobSignalWaitOutcome.TimedOut) : new JobSignalWait(JobSignalWaitOutcome.Delivered, signal);
            }
        }

        if (cancelRequested)
        {
            return new JobSignalWait(JobSignalWaitOutcome.CancelRequested);
        }

        var now = Now();
        if (UnixTime.ToMicroseconds(until) <= now)
        {
            // Unless it is the one wait's deadline, no wait has timed out: each decides its own at the next attempt.
            if (recordTimeout)
            {
                InsertSignal(session, jobId, names[0], attempts, Array.Empty<byte>(), now);
            }

            return new JobSignalWait(JobSignalWaitOutcome.TimedOut);
        }

        // The snooze of an acknowledgement (cancel_requested is known to be false here).
        BindLease(session.Command(SqlStatement.AckSnooze), jobId, leaseToken)
            .Bind("@snooze_until", UnixTime.ToMicroseconds(until))
            .Bind("@reason", reason)
            .Bind("@now", now)
            .ExecuteNonQuery();
        return new JobSignalWait(JobSignalWaitOutcome.Parked);
    }

    /// <summary>The delivery, inside one write transaction with the job's state read and the resume.</summary>
    private JobSignalResult Signal(SqliteSession session, string tenant, string jobId, string name, ReadOnlyMemory<byte> payload)
    {
        JobState state;
        long? deadline;
        string? snoozeReason;
        using (var reader = session.Command(SqlStatement.FindJobState).Bind("@tenant", tenant).Bind("@id", jobId).ExecuteReader())
        {
            if (!reader.Read())
            {
                return JobSignalResult.NotFound;
            }

            state = JobStateExtensions.FromStorageName(reader.GetString(1));
            deadline = reader.IsDBNull(2) ? null : reader.GetInt64(2);
            snoozeReason = reader.GetNullableString(3);
        }

        if (state.IsFinished())
        {
            return JobSignalResult.Finished;
        }

        var now = Now();
        if (deadline <= now)
        {
            return JobSignalResult.DeadlinePassed;
        }

        var (signal, wait) = FindSignalSteps(session, jobId, name);
        if (signal is not null)
        {
            return signal.Length == 0 ? JobSignalResult.WaitTimedOut : JobSignalResult.AlreadyDelivered;
        }

        if (wait is not null && JobSignal.WaitHasTimedOut(wait, UnixTime.FromMicroseconds(now)))
        {
            // Timed out before a worker recorded it: the timeout is recorded now, and the signal refused.
            InsertSignal(session, jobId, name, 0, ReadOnlyMemory<byte>.Empty, now);
            return JobSignalResult.WaitTimedOut;
        }

        InsertSignal(session, jobId, name, 0, payload, now);

        // The wait step may be an earlier attempt's while the job is scheduled now for another reason (a snooze, a wait
        // for another signal), whose time the signal must not cut short: only the park's reason says it waits.
        if (state != JobState.Scheduled || wait is null
            || !JobSignal.IsWaitReasonFor(snoozeReason, name))
        {
            return JobSignalResult.Delivered;
        }

        // Parked for it: pending now, at the back of its queue, as a requeue makes it, and no longer waiting, so its
        // wait's reason goes.
        ApplyCommand(session, tenant, jobId, JobBulkAction.Requeue);
        session.Command(SqlStatement.ClearSnoozeReason).Bind("@tenant", tenant).Bind("@id", jobId).ExecuteNonQuery();
        return JobSignalResult.Resumed;
    }

    /// <summary>The stored signal's result and the job's wait for it (its deadline step's result), each null when none.</summary>
    private static (byte[]? Signal, byte[]? Wait) FindSignalSteps(SqliteSession session, string jobId, string name)
    {
        var signalStep = JobSignal.StepName(name);
        byte[]? signal = null;
        byte[]? wait = null;
        using var reader = session.Command(SqlStatement.FindSignalSteps)
            .Bind("@id", jobId)
            .Bind("@signal", signalStep)
            .Bind("@wait", JobSignal.WaitStepName(name))
            .ExecuteReader();
        while (reader.Read())
        {
            if (reader.GetString(0) == signalStep)
            {
                signal = reader.GetFieldValue<byte[]>(1);
            }
            else
            {
                wait = reader.GetFieldValue<byte[]>(1);
            }
        }

        return (signal, wait);
    }

    private static void InsertSignal(SqliteSession session, string jobId, string name, int attempt, ReadOnlyMemory<byte> result, long now) =>
        session.Command(SqlStatement.InsertSignal)
            .Bind("@id", jobId)
            .Bind("@name", JobSignal.StepName(name))
            .Bind("@attempt", attempt)
            .Bind("@result", result.ToBindableArray())
            .Bind("@completed_at", now)
            .ExecuteNonQuery();
}
