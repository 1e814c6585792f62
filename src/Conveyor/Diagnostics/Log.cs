using Microsoft.Extensions.Logging;

namespace Conveyor;

/// <summary>
/// Every log line of the core, source-generated; placeholders use the contract's field names. A line with an instant
/// is generated with a string field and called through a method that formats it (<see cref="InstantText"/>).
/// </summary>
internal static partial class Log
{
    // One line per attempt's outcome (ids 2, 4, 5, 12, 14, 40, 51), each with the same fields: job_id, job_type, queue,
    // attempt, duration_ms, outcome and trace_id. A failure's exception is attached once, to its retry or failure line,
    // as it was thrown (structured sinks record its type, message and stack); the error and reason fields, which come
    // from handlers, go through LogText.Escape, so a line break or an ESC sequence in them cannot reach a plain console.

    [LoggerMessage(EventId = 2, Message = "Job {job_id} ({job_type}, queue {queue}) attempt {attempt} ran {duration_ms:F1} ms: {outcome} (trace {trace_id})")]
    public static partial void AttemptSucceeded(ILogger logger, LogLevel level, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string? trace_id);

    [LoggerMessage(4, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt} ran {duration_ms:F1} ms: {outcome}, next attempt at {retry_at}: {error} (trace {trace_id})")]
    private static partial void AttemptRetriedLine(ILogger logger, Exception? exception, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string retry_at, string error, string? trace_id);

    public static void AttemptRetried(ILogger logger, Exception? exception, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, DateTimeOffset retry_at, string error, string? trace_id)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            AttemptRetriedLine(logger, exception, job_id, job_type, queue, attempt, duration_ms, outcome, InstantText.Format(retry_at), LogText.Escape(error), trace_id);
        }
    }

    [LoggerMessage(5, LogLevel.Error, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt} ran {duration_ms:F1} ms: {outcome}, for good: {error} (trace {trace_id})")]
    private static partial void AttemptFailedLine(ILogger logger, Exception? exception, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string error, string? trace_id);

    public static void AttemptFailed(ILogger logger, Exception? exception, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string error, string? trace_id)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            AttemptFailedLine(logger, exception, job_id, job_type, queue, attempt, duration_ms, outcome, LogText.Escape(error), trace_id);
        }
    }

    [LoggerMessage(6, LogLevel.Warning, "The store {store} is unavailable during {operation}; retrying in {delay_ms} ms")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, string store, string operation, int delay_ms);

    [LoggerMessage(903, LogLevel.Error, "The store {store} cannot be opened; the calls that need it fail until the cause is fixed and the process restarted")]
    public static partial void StoreCannotBeOpened(ILogger logger, Exception exception, string store);

    [LoggerMessage(15, LogLevel.Error, "The store {store} refused the acknowledgement of job {job_id}; the job stays held and its acknowledgement is retried alone, while the server's others go on")]
    public static partial void AcknowledgementRefused(ILogger logger, Exception exception, string job_id, string store);

    [LoggerMessage(16, LogLevel.Warning, "The store {store} refused a batch of {count} acknowledgements (not an outage); each is written alone")]
    public static partial void AcknowledgementBatchRefused(ILogger logger, Exception exception, int count, string store);

    [LoggerMessage(7, LogLevel.Information, "Conveyor server {server_id} started on store {store}: concurrency {concurrency}, queues {queues}")]
    public static partial void ServerStarted(ILogger logger, string server_id, string store, int concurrency, string queues);

    [LoggerMessage(8, LogLevel.Information, "Conveyor server {server_id} stopping: {running} running jobs get up to {grace_s} s to finish")]
    public static partial void ServerStopping(ILogger logger, string server_id, int running, double grace_s);

    [LoggerMessage(9, LogLevel.Warning, "Shutdown grace ended with {running} jobs still running: cancelling them and returning them to their queues")]
    public static partial void ShutdownGraceEnded(ILogger logger, int running);

    [LoggerMessage(10, LogLevel.Information, "Conveyor server {server_id} stopped")]
    public static partial void ServerStopped(ILogger logger, string server_id);

    [LoggerMessage(11, LogLevel.Warning, "Recovered job {job_id} ({job_type}, queue {queue}) whose lease expired: now {state}")]
    public static partial void LeaseRecovered(ILogger logger, string job_id, string job_type, string queue, string state);

    [LoggerMessage(12, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: {outcome} after {duration_ms:F1} ms: nothing of this attempt is recorded (its lease expired, or the store could not take its outcome before it does; a handler still running is cancelled), and the job is recovered as any job whose lease expired (trace {trace_id})")]
    public static partial void AttemptLeaseLost(ILogger logger, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string? trace_id);

    [LoggerMessage(17, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt} ended {overdue} after its lease expired at {lease_expired_at} (this process was paused or could not reach the store to extend it): if another server recovered the job meanwhile, this attempt's outcome is not recorded and the newer attempt decides")]
    private static partial void AttemptOutlivedLeaseLine(ILogger logger, string job_id, string job_type, string queue, int attempt, string lease_expired_at, TimeSpan overdue);

    public static void AttemptOutlivedLease(ILogger logger, string job_id, string job_type, string queue, int attempt, DateTimeOffset lease_expired_at, TimeSpan overdue)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            AttemptOutlivedLeaseLine(logger, job_id, job_type, queue, attempt, InstantText.Format(lease_expired_at), overdue);
        }
    }

    [LoggerMessage(99, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: its lease expired at {lease_expired_at} before this server could extend it (the store was away, or this process paused, longer than a lease): the handler is cancelled and its outcome will not be recorded; the job is recovered as any job whose lease expired: it runs again if it has retries left, else it fails")]
    public static partial void LeaseExpiredUnextended(ILogger logger, string job_id, string job_type, string queue, int attempt, string lease_expired_at);

    [LoggerMessage(100, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: its handler did not return within {seconds} s of its cancellation at shutdown (it ignores its token); the job is returned to its queue, the attempt not counted, and nothing the handler does from now on is recorded")]
    public static partial void HandlerIgnoredShutdown(ILogger logger, string job_id, string job_type, string queue, int attempt, double seconds);

    [LoggerMessage(41, LogLevel.Warning, "The janitor is behind: {backlog} expired finished jobs found since it last caught up, growing over {runs} runs; the store grows until deletion keeps up (shorten retention, or see the janitor's interval and the store's load)")]
    public static partial void JanitorBehind(ILogger logger, long backlog, int runs);

    [LoggerMessage(904, LogLevel.Warning, "Job {job_id} was leased to this server (lease {lease_token}) by a call whose answer was lost; handed back to the head of its queue, its attempt not counted")]
    public static partial void UnknownLeaseHandedBack(ILogger logger, string job_id, long lease_token);

    [LoggerMessage(905, LogLevel.Debug, "This server's leases could not be listed in the store {store} after a failed dequeue; trying again")]
    public static partial void LeaseReconcileFailed(ILogger logger, Exception exception, string store);

    [LoggerMessage(910, LogLevel.Debug, "Listing this server's leases in the store {store} was given up after {limit_ms} ms, the longest that lease-taking calls wait for it; trying again later")]
    public static partial void LeaseListingCutOff(ILogger logger, string store, int limit_ms);

    [LoggerMessage(98, LogLevel.Error, "The recoverer could not renew this server's leases after an outage; it recovers expired leases anyway, this server's among them")]
    public static partial void OwnLeasesNotRenewed(ILogger logger, Exception exception);

    [LoggerMessage(18, LogLevel.Warning, "Conveyor server {server_id} could not remove its entry from the store as it stopped; the entry expires with its heartbeat")]
    public static partial void ServerRemovalFailed(ILogger logger, Exception exception, string server_id);

    [LoggerMessage(13, LogLevel.Error, "{component} failed; it carries on at its next tick")]
    public static partial void ComponentFailed(ILogger logger, Exception exception, string component);

    [LoggerMessage(60, LogLevel.Warning, "{component} cannot reach the store; it keeps trying every tick and says when the store answers again")]
    public static partial void ComponentStoreUnavailable(ILogger logger, Exception exception, string component);

    [LoggerMessage(61, LogLevel.Information, "{component} reaches the store again after {outage_s:F1} s")]
    public static partial void ComponentStoreAvailableAgain(ILogger logger, string component, double outage_s);

    [LoggerMessage(EventId = 40, Message = "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: {outcome} after {duration_ms:F1} ms until {until}: {reason} (trace {trace_id})")]
    private static partial void AttemptSnoozedLine(ILogger logger, LogLevel level, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string until, string? reason, string? trace_id);

    public static void AttemptSnoozed(ILogger logger, LogLevel level, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, DateTimeOffset until, string? reason, string? trace_id)
    {
        if (logger.IsEnabled(level))
        {
            AttemptSnoozedLine(logger, level, job_id, job_type, queue, attempt, duration_ms, outcome, InstantText.Format(until), LogText.Escape(reason), trace_id);
        }
    }

    [LoggerMessage(14, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: {outcome} while running, after {duration_ms:F1} ms (trace {trace_id})")]
    public static partial void AttemptCancelled(ILogger logger, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string? trace_id);

    [LoggerMessage(50, LogLevel.Warning, "Second stop signal: cancelling the {running} running jobs now and returning them to their queues")]
    public static partial void ShutdownGraceCutShort(ILogger logger, int running);

    [LoggerMessage(51, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: {outcome} by the shutdown after {duration_ms:F1} ms, returned to its queue, the attempt not counted (trace {trace_id})")]
    public static partial void AttemptReleased(ILogger logger, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string? trace_id);

    [LoggerMessage(52, LogLevel.Debug, "Job {job_id} ({job_type}, queue {queue}) returned to the head of its queue without running, the attempt not counted: {reason} (trace {trace_id})")]
    public static partial void AttemptHeldByRateLimit(ILogger logger, string job_id, string job_type, string queue, string reason, string? trace_id);

    [LoggerMessage(70, LogLevel.Information, "Schedules from code and configuration: {defined} defined, {created} created, {changed} changed, {deleted} no longer defined and deleted")]
    public static partial void SchedulesReconciled(ILogger logger, int defined, int created, int changed, int deleted);

    [LoggerMessage(71, LogLevel.Information, "Schedule {schedule} of tenant {tenant} is no longer defined in code or configuration: deleted")]
    public static partial void ScheduleRemoved(ILogger logger, string tenant, string schedule);

    [LoggerMessage(72, LogLevel.Debug, "Schedule {schedule} of tenant {tenant} fired for {tick}: job {job_id} ({outcome})")]
    private static partial void ScheduleFiredLine(ILogger logger, string tenant, string schedule, string tick, string job_id, string outcome);

    public static void ScheduleFired(ILogger logger, string tenant, string schedule, DateTimeOffset tick, string job_id, string outcome)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            ScheduleFiredLine(logger, tenant, LogText.Escape(schedule), InstantText.Format(tick), job_id, outcome);
        }
    }

    [LoggerMessage(73, LogLevel.Warning, "Schedule {schedule} of tenant {tenant} missed {missed} ticks from {first} to {last} (misfire policy {policy})")]
    private static partial void ScheduleMisfiredLine(ILogger logger, string tenant, string schedule, int missed, string first, string last, string policy);

    public static void ScheduleMisfired(ILogger logger, string tenant, string schedule, int missed, DateTimeOffset first, DateTimeOffset last, string policy)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            ScheduleMisfiredLine(logger, tenant, LogText.Escape(schedule), missed, InstantText.Format(first), InstantText.Format(last), policy);
        }
    }

    [LoggerMessage(74, LogLevel.Information, "Schedule {schedule} of tenant {tenant} skipped its tick {tick}: the job of its previous tick, {job_id}, has not finished")]
    private static partial void ScheduleOverlapSkippedLine(ILogger logger, string tenant, string schedule, string tick, string job_id);

    public static void ScheduleOverlapSkipped(ILogger logger, string tenant, string schedule, DateTimeOffset tick, string job_id)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            ScheduleOverlapSkippedLine(logger, tenant, LogText.Escape(schedule), InstantText.Format(tick), job_id);
        }
    }

    [LoggerMessage(75, LogLevel.Error, "Schedule {schedule} of tenant {tenant} cannot fire: {problem}")]
    private static partial void ScheduleBrokenLine(ILogger logger, string tenant, string schedule, string problem);

    /// <summary>A schedule the store holds as no API or code would write it (by hand, or by an older version): its text is escaped.</summary>
    public static void ScheduleBroken(ILogger logger, string tenant, string schedule, string problem)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            ScheduleBrokenLine(logger, LogText.Escape(tenant), LogText.Escape(schedule), LogText.Escape(problem));
        }
    }

    [LoggerMessage(128, LogLevel.Error, "Schedule {schedule} of tenant {tenant} failed to fire; it is read again at the scheduler's next poll")]
    private static partial void ScheduleFireFailedLine(ILogger logger, Exception exception, string tenant, string schedule);

    /// <summary>A schedule whose fire failed for a reason of its own (not the store away): the other schedules go on.</summary>
    public static void ScheduleFireFailed(ILogger logger, Exception exception, string tenant, string schedule)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            ScheduleFireFailedLine(logger, exception, LogText.Escape(tenant), LogText.Escape(schedule));
        }
    }

    [LoggerMessage(80, LogLevel.Information, "Limits in force from the store: {concurrency} concurrency and {rate} rate limits ({names})")]
    public static partial void LimitsChanged(ILogger logger, int concurrency, int rate, string names);

    [LoggerMessage(81, LogLevel.Information, "Started {count} jobs that waited for turns of rate limits since removed or changed; they take their permits under the limits in force")]
    public static partial void StartedWaitingOfChangedLimits(ILogger logger, int count);

    [LoggerMessage(125, LogLevel.Warning, "The {kind} limit '{name}' came from configuration, and this server's configuration does not have it: it stays in force on every server until it is deleted (DELETE /limits/{kind}/{name}) once no server's configuration has it")]
    public static partial void ConfiguredLimitNotConfiguredHere(ILogger logger, string kind, string name);

    [LoggerMessage(126, LogLevel.Error, "Recovered job {job_id} ({job_type}, queue {queue}) whose lease expired with no attempt left (or its deadline passed): now FAILED (its worker stopped renewing the lease: a crash, a kill, a pause or a store outage longer than the lease); retry it when its handler can finish")]
    public static partial void LeaseRecoveredAsFailed(ILogger logger, string job_id, string job_type, string queue);
}
