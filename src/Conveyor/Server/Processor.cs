using System.Globalization;
using Conveyor.Diagnostics;
using Conveyor.Handlers;
using Conveyor.Middleware;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.Server;

/// <summary>
/// Runs one attempt through the middleware pipeline in a fresh DI scope and turns how it ended into the
/// acknowledgement the store records. All outcome rules live here, in <see cref="Decide"/>.
/// </summary>
internal sealed class Processor(
    JobPipeline pipeline,
    JobHandlerRegistry handlers,
    IOptions<JobServerOptions> options,
    IServiceScopeFactory scopeFactory,
    IJobStore store,
    JobPayloadSerializer serializer,
    IRetryPolicy retryPolicy,
    ConveyorMetrics metrics,
    TimeProvider timeProvider,
    ILogger<Processor> logger)
{
    /// <summary>Runs the job; returns its acknowledgement, or null when the lease was lost and nothing may be recorded.</summary>
    public async Task<JobAcknowledgement?> ProcessAsync(RunningJob run, CancellationToken shutdownRequested)
    {
        var started = timeProvider.GetTimestamp();
        var (acknowledgement, context) = await RunAsync(run, shutdownRequested).ConfigureAwait(false);
        run.ParkedUntil = acknowledgement is null ? context?.ParkedUntil : null;
        LogOutcome(run, context, acknowledgement, timeProvider.GetElapsedTime(started));
        if (acknowledgement is not null && timeProvider.GetUtcNow() is var now && now > run.LeaseHeldUntil)
        {
            // Its acknowledgement is sent all the same: it is recorded if no other server took the job meanwhile.
            Log.AttemptOutlivedLease(logger, run.Job.Id, run.Job.Type, run.Job.Queue, run.Job.Attempt, run.LeaseHeldUntil, now - run.LeaseHeldUntil);
        }

        return acknowledgement;
    }

    private async Task<(JobAcknowledgement? Acknowledgement, JobContext? Context)> RunAsync(RunningJob run, CancellationToken shutdownRequested)
    {
        var job = run.Job;
        var now = timeProvider.GetUtcNow();
        if (job.Deadline is { } deadline && deadline <= now)
        {
            return (Fail(new JobError(job.Attempt, $"The deadline {InstantText.Format(deadline)} passed before the attempt could start.", null, null, now), job, []), null);
        }

        if (run.TurnWait is { } turn && run.RateLimited is null)
        {
            await WaitForTurnAsync(run, turn.Until, turn.AskAgain, shutdownRequested).ConfigureAwait(false);
        }

        if (run.RateLimited is { } rateLimited)
        {
            metrics.JobSnoozed(job.Type, job.Queue, "rate_limited");
            if (rateLimited.Release)
            {
                // Its queue is paced (QueuePacing): back at the head, it waits queued for the fetcher's next turn.
                return (new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Released }, null);
            }

            return (new JobAcknowledgement
            {
                JobId = job.Id,
                LeaseToken = job.LeaseToken,
                Outcome = AckOutcome.Snoozed,
                SnoozeUntil = rateLimited.Until,
                SnoozeReason = rateLimited.Reason,
            }, null);
        }

        if (!handlers.TryGet(job.Type, out _) && options.Value.UnknownJobTypes == UnknownJobTypeAction.Snooze)
        {
            return (SnoozeUnknownType(run, now), null);
        }

        // Its wait ends here, where the attempt starts: a job handed back (a rate limit's turn, no handler here) did not
        // start, and its wait goes on from its next turn.
        metrics.QueueWait(job.Queue, timeProvider.GetUtcNow() - job.EnqueuedAt);
        run.Started = true;
        run.ArmLimits(timeProvider);
        var scope = scopeFactory.CreateAsyncScope();
        JobContext context;
        try
        {
            context = new JobContext(job, scope.ServiceProvider, store, timeProvider, serializer.Serialize, run, shutdownRequested);
            try
            {
                await pipeline.RunAsync(context).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The recovery middleware is outermost and catches everything; this only guards the worker loop
                // against a middleware that throws from outside it.
                context.Exception ??= e;
            }
        }
        finally
        {
            run.HandlerReturned = true;
            run.DisarmLimits();
            await scope.DisposeAsync().ConfigureAwait(false);
        }

        // Every wait the handler started has finished by now (JobPipeline): a park names them all.
        var acknowledgement = context.SignalWaitRequest is { } wait && context.Exception is JobSuspendedException
            ? await ParkAsync(run, context, wait).ConfigureAwait(false)
            : Decide(run, context);
        if (run.IdempotencyKey is { } idempotencyKey)
        {
            if (acknowledgement is null)
            {
                await SettleIdempotencyKeyAsync(run, context, idempotencyKey).ConfigureAwait(false);
            }
            else
            {
                acknowledgement = acknowledgement with { IdempotencyKey = idempotencyKey, IdempotencyKeepDoneFor = run.IdempotencyKeepDoneFor };
            }
        }

        return (acknowledgement, context);
    }

    /// <summary>
    /// Waits in the worker for a rate limit's turn a few milliseconds away, then has the permit asked for again; at
    /// shutdown the job is snoozed to its turn instead, and a permit that could not be asked for holds it a moment.
    /// </summary>
    private async Task WaitForTurnAsync(RunningJob run, DateTimeOffset until, Func<CancellationToken, ValueTask> askAgain, CancellationToken shutdownRequested)
    {
        try
        {
            var wait = PromotionAlarm.TimerWait(until - timeProvider.GetUtcNow());
            if (wait > TimeSpan.Zero)
            {
                // Asked a moment early, the permit would be refused and the job snoozed past its turn.
                await Task.Delay(wait, timeProvider, shutdownRequested).ConfigureAwait(false);
            }

            await askAgain(shutdownRequested).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdownRequested.IsCancellationRequested)
        {
            run.HoldForRateLimit(until, $"Rate limit reached; the server stopped while the job waited for its turn, {InstantText.Format(until)}.", release: false);
        }
        catch (Exception e)
        {
            if (e is JobStoreUnavailableException)
            {
                metrics.StoreUnavailable(StoreOperations.RatePermits);
            }

            var retryAt = timeProvider.GetUtcNow() + Limits.RateLimitGate.UnknownWait;
            Log.StoreUnavailable(logger, e, store.Name, "rate permits", (int)Limits.RateLimitGate.UnknownWait.TotalMilliseconds);
            run.HoldForRateLimit(retryAt, "A rate limit could not be checked; trying again shortly.", release: false);
        }
    }

    /// <summary>
    /// An attempt that lost its lease sends no acknowledgement, yet the idempotency record it holds must still end:
    /// done if the handler finished its work (a duplicate must not repeat it), released otherwise.
    /// </summary>
    private async Task SettleIdempotencyKeyAsync(RunningJob run, JobContext context, string key)
    {
        var job = run.Job;
        var owner = new LeaseRef(job.Id, job.LeaseToken);
        var succeeded = context.Exception is null && context.SnoozeRequest is null;
        try
        {
            // Not the handler's token: what happened must be recorded even though the attempt is over.
            if (succeeded && !await store.CompleteIdempotencyKeyAsync(key, owner, run.IdempotencyKeepDoneFor, CancellationToken.None).ConfigureAwait(false))
            {
                Log.IdempotencyTakenOver(logger, job.Id, job.Type, job.Queue, key);
            }
            else if (!succeeded)
            {
                await store.ReleaseIdempotencyKeyAsync(key, owner, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (JobStoreUnavailableException e)
        {
            if (succeeded)
            {
                Log.IdempotencyCompleteFailed(logger, job.Id, job.Type, job.Queue, key, e.Message);
            }
            else
            {
                Log.IdempotencyReleaseFailed(logger, job.Id, job.Type, job.Queue, key, e.Message);
            }
        }
    }

    /// <summary>
    /// The attempt's one log line: success at <see cref="JobServerOptions.SuccessLogLevel"/>, retry at Warning, failure
    /// for good at Error (with the exception), cancelled and released at Information, lease lost at Warning, snoozed by its reason's level.
    /// The trace id is the attempt's <c>process</c> span's, or the trace the job was created in when no span was started.
    /// </summary>
    private void LogOutcome(RunningJob run, JobContext? context, JobAcknowledgement? acknowledgement, TimeSpan duration)
    {
        var job = run.Job;
        var traceId = context?.TraceId ?? TraceIdOf(job.TraceParent);
        var ms = duration.TotalMilliseconds;
        switch (acknowledgement?.Outcome)
        {
            case null when context is { ParkedUntil: { } until, SignalWaitRequest: { } wait }:
                Log.AttemptParked(logger, job.Id, job.Type, job.Queue, job.Attempt, ms, AttemptStatus.Snoozed, string.Join(", ", wait.Names), until, traceId);
                break;
            case null:
                Log.AttemptLeaseLost(logger, job.Id, job.Type, job.Queue, job.Attempt, ms, "lease_lost", traceId);
                break;
            case AckOutcome.Succeeded or AckOutcome.Partial:
                var level = options.Value.SuccessLogLevel;
                if (logger.IsEnabled(level))
                {
                    Log.AttemptSucceeded(logger, level, job.Id, job.Type, job.Queue, job.Attempt, ms, acknowledgement.Outcome == AckOutcome.Partial ? "partial" : AttemptStatus.Success, traceId);
                }

                break;
            case AckOutcome.Retry:
                Log.AttemptRetried(logger, context?.Exception, job.Id, job.Type, job.Queue, job.Attempt, ms, "retry", acknowledgement.RetryAt!.Value, acknowledgement.Error?.Message ?? "", traceId);
                break;
            case AckOutcome.Failed:
                Log.AttemptFailed(logger, context?.Exception, job.Id, job.Type, job.Queue, job.Attempt, ms, AttemptStatus.Failed, acknowledgement.Error?.Message ?? "", traceId);
                break;
            case AckOutcome.Cancelled:
                Log.AttemptCancelled(logger, job.Id, job.Type, job.Queue, job.Attempt, ms, AttemptStatus.Cancelled, traceId);
                break;
            case AckOutcome.Released when run.RateLimited is { } rateLimited:
                Log.AttemptHeldByRateLimit(logger, job.Id, job.Type, job.Queue, rateLimited.Reason, traceId);
                break;
            case AckOutcome.Released when context is { SignalWaitRequest: { } ended, Exception: JobSuspendedException }:
                Log.AttemptWaitEndedAsParked(logger, job.Id, job.Type, job.Queue, job.Attempt, ms, AttemptStatus.Snoozed, string.Join(", ", ended.Names), traceId);
                break;
            case AckOutcome.Released:
                Log.AttemptReleased(logger, job.Id, job.Type, job.Queue, job.Attempt, ms, AttemptStatus.Released, traceId);
                break;
            case AckOutcome.Snoozed:
                Log.AttemptSnoozed(logger, SnoozeLogLevel(run), job.Id, job.Type, job.Queue, job.Attempt, ms, "snoozed", acknowledgement.SnoozeUntil!.Value, acknowledgement.SnoozeReason, traceId);
                break;
        }
    }

    /// <summary>
    /// A job held back by a rate limit is flow control working as configured (one line per held job would flood the
    /// log under a hit limit; <c>job_snoozed_total</c> counts them): Debug. A handler's own snooze: Information. A job
    /// no handler here can run needs an operator: Warning.
    /// </summary>
    private static LogLevel SnoozeLogLevel(RunningJob run) =>
        run.RateLimited is not null ? LogLevel.Debug : run.Started ? LogLevel.Information : LogLevel.Warning;

    private static string? TraceIdOf(string? traceParent) =>
        System.Diagnostics.ActivityContext.TryParse(traceParent, null, out var creation) ? creation.TraceId.ToHexString() : null;

    internal JobAcknowledgement? Decide(RunningJob run, JobContext context)
    {
        var job = run.Job;
        var now = timeProvider.GetUtcNow();
        var exception = context.Exception;
        if (run.Reason == StopReason.LeaseLost)
        {
            // The lease expired and the job may be running elsewhere already: recording anything now could
            // overwrite a newer attempt's outcome.
            return null;
        }

        // A middleware's snooze holds whether or not the pipeline threw; a handler's sleep only if the attempt ended on
        // it (or beside a wait): a handler that returned while a sleep it did not await was pending is done.
        var hold = exception switch
        {
            null => context.SnoozeRequest,
            JobSuspendedException => context.SnoozeRequest ?? context.SleepRequest,
            _ => null,
        };
        if (hold is { } snooze)
        {
            if (DeadlinePassed(job, now) is { } passed)
            {
                return Fail(passed, job, context.ItemErrors);
            }

            metrics.JobSnoozed(job.Type, job.Queue, snooze.MetricReason);
            var (until, reason) = UntilTheDeadlineAtMost(job, snooze.Until, snooze.Reason);
            return new JobAcknowledgement
            {
                JobId = job.Id,
                LeaseToken = job.LeaseToken,
                Outcome = AckOutcome.Snoozed,
                SnoozeUntil = until,
                SnoozeReason = reason,
            };
        }

        if (exception is null)
        {
            return new JobAcknowledgement
            {
                JobId = job.Id,
                LeaseToken = job.LeaseToken,
                Outcome = context.ItemErrors.Count > 0 ? AckOutcome.Partial : AckOutcome.Succeeded,
                ItemErrors = context.Notes.Count == 0 ? context.ItemErrors : [.. context.Notes, .. context.ItemErrors],
                Result = context.Result,
                ResultUrl = context.ResultUrl,
                BatchId = job.BatchId,
            };
        }

        switch (context.StopReasonFor(exception))
        {
            case StopReason.Shutdown:
                // The grace period ended: hand the job back untouched so that another server runs it; the
                // interrupted attempt is not the job's fault and does not count.
                return new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Released, AttemptRan = true };
            case StopReason.CancelRequested:
                return new JobAcknowledgement
                {
                    JobId = job.Id,
                    LeaseToken = job.LeaseToken,
                    Outcome = AckOutcome.Cancelled,
                    Error = new JobError(job.Attempt, "Cancelled while running.", null, null, now),
                    ItemErrors = context.ItemErrors,
                };
            case StopReason.Deadline:
                return Fail(new JobError(job.Attempt, $"The deadline {InstantText.Format(job.Deadline.GetValueOrDefault())} passed while the attempt was running.", exception.GetType().FullName, null, now) { StackTrace = JobError.StackTraceOf(exception) }, job, context.ItemErrors);
        }

        var message = run.Reason == StopReason.Timeout
            ? $"The attempt timed out after {job.Timeout}."
            : exception.Message;
        var error = new JobError(job.Attempt, message, exception.GetType().FullName, null, now) { StackTrace = JobError.StackTraceOf(exception) };
        if (SkipRetryException.IsSkipRetry(exception) || job.Attempt > job.MaxRetry)
        {
            return Fail(error, job, context.ItemErrors);
        }

        var retryAt = now + retryPolicy.GetDelay(new RetryDelayArguments(job.Type, job.Queue, job.Attempt, exception));
        if (job.Deadline is { } deadline && retryAt >= deadline)
        {
            return Fail(error with { Message = error.Message + $" No retry: the next one would start after the deadline {InstantText.Format(deadline)}." }, job, context.ItemErrors);
        }

        metrics.JobRetryScheduled(job.Type, job.Queue);
        return new JobAcknowledgement
        {
            JobId = job.Id,
            LeaseToken = job.LeaseToken,
            Outcome = AckOutcome.Retry,
            RetryAt = retryAt,
            Error = error,
            ItemErrors = context.ItemErrors,
        };
    }

    /// <summary>
    /// Ends an attempt whose handler waits for signals: the store parks the job until the earliest of their deadlines, or
    /// of a sleep the handler started beside them, unless one of the signals came (or that time passed) while the handler
    /// unwound, in which case the job is released to run again at once, the attempt not counted; a cancel request
    /// cancels it. Returns the acknowledgement to send, or null when the store parked the job (nothing more to record) or
    /// the lease was lost.
    /// </summary>
    private async Task<JobAcknowledgement?> ParkAsync(RunningJob run, JobContext context, JobSignalWaitRequest wait)
    {
        var job = run.Job;
        if (run.Reason == StopReason.LeaseLost)
        {
            return null;
        }

        // Past its deadline the job fails now, as its next attempt would at its start.
        if (DeadlinePassed(job, timeProvider.GetUtcNow()) is { } passed)
        {
            return Fail(passed, job, context.ItemErrors);
        }

        var (until, reason) = (wait.Until, JobSignal.WaitReason(wait.Names, wait.Until));
        if (context.SleepRequest is { } sleep && sleep.Until < until)
        {
            // A sleep started beside the waits (one of them not awaited) comes first: the job runs again at its time.
            (until, reason) = (sleep.Until, reason + " " + sleep.Reason);
        }

        (until, reason) = UntilTheDeadlineAtMost(job, until, reason);
        JobSignalWait decided;
        try
        {
            // Every name, checked in the park's one atomic step: a signal of any of them delivered while the attempt ran
            // (after it read the job's steps) keeps the job from parking, and is found by the next attempt at once. A
            // passed time records a timeout only when it is the one wait's own deadline, not a sleep's or the job's.
            var recordTimeout = wait.Names.Count == 1 && until == wait.Until;
            decided = await store.AwaitSignalAsync(job.Id, job.LeaseToken, wait.Names, until, recordTimeout, reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException e)
        {
            // Nothing was recorded: the lease expires and the recoverer runs the job again, which waits again.
            Log.SignalWaitFailed(logger, job.Id, job.Type, job.Queue, string.Join(", ", wait.Names), e.Message);
            return null;
        }

        switch (decided.Outcome)
        {
            case JobSignalWaitOutcome.Parked:
                context.ParkedUntil = until;
                metrics.JobSnoozed(job.Type, job.Queue, "signal");
                return null;
            case JobSignalWaitOutcome.Delivered or JobSignalWaitOutcome.TimedOut:
                return new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Released, AttemptRan = true };
            case JobSignalWaitOutcome.CancelRequested:
                return new JobAcknowledgement
                {
                    JobId = job.Id,
                    LeaseToken = job.LeaseToken,
                    Outcome = AckOutcome.Cancelled,
                    Error = new JobError(job.Attempt, $"Cancelled while waiting for {(wait.Names.Count == 1 ? "signal" : "signals")} {string.Join(", ", wait.Names.Select(JobSignal.QuotedName))}.", null, null, timeProvider.GetUtcNow()),
                    ItemErrors = context.ItemErrors,
                };
            default:
                return null;
        }
    }

    /// <summary>
    /// Hands a job this server has no handler for back to wait, its attempt not counted, so that a server that
    /// handles its type (another deployment, or this one after an upgrade) runs it.
    /// </summary>
    private JobAcknowledgement SnoozeUnknownType(RunningJob run, DateTimeOffset now)
    {
        var job = run.Job;
        var settings = options.Value;
        var until = now + UnknownJobTypeSnooze.Delay(settings.UnknownJobTypeDelay, settings.UnknownJobTypeMaxDelay, now - job.CreatedAt);
        if (job.Deadline is { } deadline && until >= deadline)
        {
            var message = new UnknownJobTypeException(job.Type).Message + $" No server that handles it took the job before its deadline {InstantText.Format(deadline)}.";
            return Fail(new JobError(job.Attempt, message, typeof(UnknownJobTypeException).FullName, null, now), job, []);
        }

        metrics.JobSnoozed(job.Type, job.Queue, UnknownJobTypeSnooze.MetricReason);
        return new JobAcknowledgement
        {
            JobId = job.Id,
            LeaseToken = job.LeaseToken,
            Outcome = AckOutcome.Snoozed,
            SnoozeUntil = until,
            SnoozeReason = UnknownJobTypeSnooze.Reason(job.Type),
        };
    }

    /// <summary>
    /// A job that sleeps, waits for a signal or is snoozed past its deadline waits until the deadline only: it then
    /// runs, and fails at the start of the attempt as any job past its deadline does, so that it is failed (and alerted
    /// on) when it became useless rather than when its wait ends. A signal that comes before still resumes it.
    /// </summary>
    private static JobError? DeadlinePassed(LeasedJob job, DateTimeOffset now) =>
        job.Deadline is { } deadline && deadline <= now
            ? new JobError(job.Attempt, $"The deadline {InstantText.Format(deadline)} passed before the job could wait.", null, null, now)
            : null;

    private static (DateTimeOffset Until, string Reason) UntilTheDeadlineAtMost(LeasedJob job, DateTimeOffset until, string reason) =>
        job.Deadline is { } deadline && deadline < until
            ? (deadline, string.Create(CultureInfo.InvariantCulture, $"{reason} The job's deadline {deadline.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} comes first: it fails then."))
            : (until, reason);

    private static JobAcknowledgement Fail(JobError error, LeasedJob job, IReadOnlyList<JobError> itemErrors)
    {
        return new JobAcknowledgement
        {
            JobId = job.Id,
            LeaseToken = job.LeaseToken,
            Outcome = AckOutcome.Failed,
            Error = error,
            ItemErrors = itemErrors,
        };
    }
}
