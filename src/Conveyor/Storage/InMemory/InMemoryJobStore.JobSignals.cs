namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    public ValueTask<JobSignalWait> AwaitSignalAsync(string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(reason);
        JobSignal.ValidateNames(names, recordTimeout);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job) || job.State != JobState.Active || job.LeaseToken != leaseToken)
            {
                return ValueTask.FromResult(new JobSignalWait(JobSignalWaitOutcome.LeaseLost));
            }

            var now = _time.GetUtcNow();
            foreach (var name in names)
            {
                var stepName = JobSignal.StepName(name);
                if (job.Steps?.Find(s => string.Equals(s.Name, stepName, StringComparison.Ordinal)) is { } stored)
                {
                    return ValueTask.FromResult(stored.Result.IsEmpty
                        ? new JobSignalWait(JobSignalWaitOutcome.TimedOut)
                        : new JobSignalWait(JobSignalWaitOutcome.Delivered, stored.Result.ToArray()));
                }
            }

            if (job.CancelRequested)
            {
                return ValueTask.FromResult(new JobSignalWait(JobSignalWaitOutcome.CancelRequested));
            }

            if (until <= now)
            {
                // Unless it is the one wait's deadline, no wait has timed out: each decides its own at the next attempt.
                if (recordTimeout)
                {
                    (job.Steps ??= []).Add(new JobStep(JobSignal.StepName(names[0]), job.Attempts, Array.Empty<byte>(), now));
                }

                return ValueTask.FromResult(new JobSignalWait(JobSignalWaitOutcome.TimedOut));
            }

            // The snooze of an acknowledgement: scheduled until the deadline, the attempt not counted, the reason shown.
            Acknowledge(job, new JobAcknowledgement { JobId = jobId, LeaseToken = leaseToken, Outcome = AckOutcome.Snoozed, SnoozeUntil = until, SnoozeReason = reason }, now);
            return ValueTask.FromResult(new JobSignalWait(JobSignalWaitOutcome.Parked));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobSignalResult> SignalAsync(string tenant, string jobId, string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        JobSignal.Validate(name, payload.Length);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var job = Find(tenant, jobId);
            if (job is null)
            {
                return ValueTask.FromResult(JobSignalResult.NotFound);
            }

            if (job.State.IsFinished())
            {
                return ValueTask.FromResult(JobSignalResult.Finished);
            }

            var now = _time.GetUtcNow();
            if (job.Deadline <= now)
            {
                return ValueTask.FromResult(JobSignalResult.DeadlinePassed);
            }

            var stepName = JobSignal.StepName(name);
            var steps = job.Steps ??= [];
            if (steps.Find(s => string.Equals(s.Name, stepName, StringComparison.Ordinal)) is { } stored)
            {
                return ValueTask.FromResult(stored.Result.IsEmpty ? JobSignalResult.WaitTimedOut : JobSignalResult.AlreadyDelivered);
            }

            var waitStep = JobSignal.WaitStepName(name);
            var wait = steps.Find(s => string.Equals(s.Name, waitStep, StringComparison.Ordinal));
            if (wait is not null && JobSignal.WaitHasTimedOut(wait.Result.Span, now))
            {
                // Timed out before a worker recorded it: the timeout is recorded now, and the signal refused.
                steps.Add(new JobStep(stepName, 0, ReadOnlyMemory<byte>.Empty, now));
                return ValueTask.FromResult(JobSignalResult.WaitTimedOut);
            }

            steps.Add(new JobStep(stepName, 0, payload.ToArray(), now));

            // The wait step may be an earlier attempt's while the job is scheduled now for another reason (a snooze, a
            // wait for another signal), whose time the signal must not cut short: only the park's reason says it waits.
            if (job.State != JobState.Scheduled || wait is null
                || !JobSignal.IsWaitReasonFor(job.SnoozeReason, name))
            {
                return ValueTask.FromResult(JobSignalResult.Delivered);
            }

            // Parked for it: pending now, at the back of its queue, and no longer waiting, so its wait's reason goes.
            job.ScheduledAt = now;
            job.SnoozeReason = null;
            MoveTo(job, JobState.Pending, now);
            Signal();
            return ValueTask.FromResult(JobSignalResult.Resumed);
        }
    }
}
