using System.Diagnostics;
using Conveyor.Diagnostics;
using Conveyor.Handlers;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.Idempotency;

/// <summary>
/// Runs the handler of an <see cref="IIdempotentJob"/> at most once per key, with a record in the job store: the
/// attempt begins the key (<c>processing</c>, owned by its lease, expiring with it) and runs the rest of the pipeline;
/// the attempt's acknowledgement then completes the key (<c>done</c> for the handler's time to live) or, when the
/// attempt did not succeed, releases it, in the same store call (see <see cref="JobAcknowledgement.IdempotencyKey"/>).
/// A duplicate of a done key is acknowledged as succeeded without running; one of a key in progress is snoozed.
/// In the pipeline after tracing and before metrics, and only when some handler opts in; a skip, which never reaches
/// the metrics middleware, records its attempt itself.
/// </summary>
internal sealed class IdempotencyMiddleware(
    JobHandlerRegistry handlers,
    IdempotencyBeginBatcher begins,
    IOptions<JobServerOptions> options,
    ConveyorMetrics metrics,
    TimeProvider timeProvider,
    ILogger<IdempotencyMiddleware> logger) : IJobMiddleware
{
    /// <summary>How long a fail-closed job waits when the store cannot be reached.</summary>
    internal static readonly TimeSpan FailClosedDelay = TimeSpan.FromSeconds(5);

    /// <summary>The shortest wait of a duplicate whose key is in progress (the holder's record may expire sooner).</summary>
    internal static readonly TimeSpan MinBusyDelay = TimeSpan.FromSeconds(1);

    /// <summary>The <c>reason</c> label of <c>job_snoozed_total</c> for a key held by another job.</summary>
    internal const string BusyMetricReason = "idempotency_key_busy";

    /// <summary>The <c>reason</c> label of <c>job_snoozed_total</c> for a fail-closed job whose store is unreachable.</summary>
    internal const string UnavailableMetricReason = "idempotency_store_unavailable";

    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        if (!handlers.TryGet(context.JobType, out var invoker) || invoker.Idempotency is not { } policy)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var started = timeProvider.GetTimestamp();
        var key = invoker.GetIdempotencyKey(context);
        var recordKey = RecordKey(context, key);
        var owner = new LeaseRef(context.JobId, context.Job.LeaseToken);
        IdempotencyBeginResult begun;
        try
        {
            begun = await begins.BeginAsync(
                new IdempotencyBegin(recordKey, owner, timeProvider.GetUtcNow() + options.Value.LeaseDuration), context.CancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException e)
        {
            metrics.IdempotencyUnavailable(context.JobType, context.Queue, policy.FailureMode);
            if (policy.FailureMode == IdempotencyFailureMode.FailOpen)
            {
                Log.IdempotencyFailOpen(logger, context.JobId, context.JobType, context.Queue, e.Message);
                Activity.Current?.SetTag("conveyor.idempotency", "unavailable");
                await next(context).ConfigureAwait(false);
                return;
            }

            var until = timeProvider.GetUtcNow() + FailClosedDelay;
            Log.IdempotencyFailClosed(logger, context.JobId, context.JobType, context.Queue, e.Message, until);
            context.Snooze(until, $"The idempotency store could not be reached to check key '{key}' ({e.Message}); the handler is fail-closed, so the job waits.", UnavailableMetricReason);
            return;
        }

        switch (begun.Outcome)
        {
            case IdempotencyBeginOutcome.AlreadyDone:
                Skip(context, key, begun, started);
                return;
            case IdempotencyBeginOutcome.InProgress:
                Wait(context, key, begun);
                return;
        }

        Activity.Current?.SetTag("conveyor.idempotency", "started");
        // The end of the record rides on the attempt's acknowledgement (done on success, released otherwise), which
        // the server writes in batches: no round trip of its own here.
        context.Run.HoldIdempotencyKey(recordKey, policy.KeepDoneFor);
        await next(context).ConfigureAwait(false);
    }

    /// <summary>The record's key: the user's key scoped to the tenant and the job type, so that neither collides.</summary>
    internal static string RecordKey(JobContext context, string key) => $"{context.Tenant}/{context.JobType}/{key}";

    private void Skip(JobContext context, string key, IdempotencyBeginResult done, long started)
    {
        var finishedAt = done.FinishedAt ?? default;
        Log.IdempotentSkipped(logger, context.JobId, context.JobType, context.Queue, key, done.JobId!, finishedAt);

        // The job is acknowledged as succeeded and the processor logs the attempt as a success: it counts as one in
        // job_processed_total and job_duration_seconds too (its time is the key's check), so the metrics agree with
        // the log line and the job's state; job_idempotent_skipped_total says how many of those successes were skips.
        metrics.JobProcessed(metrics.JobStarted(context.JobType, context.Queue), AttemptStatus.Success, timeProvider.GetElapsedTime(started));
        metrics.IdempotentSkipped(context.JobType, context.Queue);
        Activity.Current?.SetTag("conveyor.idempotency", "skipped");
        context.AddNote($"Not run: idempotency key '{key}' was already done by job {done.JobId} at {InstantText.Format(finishedAt)}. Acknowledged as succeeded without running the handler.");
    }

    private void Wait(JobContext context, string key, IdempotencyBeginResult busy)
    {
        var now = timeProvider.GetUtcNow();
        var until = busy.RetryAfter is { } retryAfter && retryAfter > now + MinBusyDelay ? retryAfter : now + MinBusyDelay;
        Log.IdempotentBusy(logger, context.JobId, context.JobType, context.Queue, key, busy.JobId!, until);
        Activity.Current?.SetTag("conveyor.idempotency", "busy");
        context.Snooze(until, $"Idempotency key '{key}' is being processed by job {busy.JobId}; this job runs after that one ends (done: acknowledged without running; failed: run).", BusyMetricReason);
    }
}
