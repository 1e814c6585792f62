using Microsoft.Extensions.Logging;

namespace Conveyor;

/// <summary>Every log line of the core, source-generated; placeholders use the contract's field names.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Handler of job {job_id} ({job_type}, queue {queue}, attempt {attempt}) threw")]
    public static partial void HandlerThrew(ILogger logger, Exception exception, string job_id, string job_type, string queue, int attempt);

    [LoggerMessage(2, LogLevel.Debug, "Job {job_id} ({job_type}, queue {queue}, attempt {attempt}) succeeded in {elapsed_ms:F1} ms")]
    public static partial void AttemptSucceeded(ILogger logger, string job_id, string job_type, string queue, int attempt, double elapsed_ms);

    [LoggerMessage(3, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}, attempt {attempt}) failed after {elapsed_ms:F1} ms: {error}")]
    public static partial void AttemptFailed(ILogger logger, string job_id, string job_type, string queue, int attempt, double elapsed_ms, string error);

    [LoggerMessage(4, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) will retry (attempt {attempt} of {max_attempts}) at {retry_at:O}")]
    public static partial void RetryScheduled(ILogger logger, string job_id, string job_type, string queue, int attempt, int max_attempts, DateTimeOffset retry_at);

    [LoggerMessage(5, LogLevel.Error, "Job {job_id} ({job_type}, queue {queue}) failed for good on attempt {attempt}: {error}")]
    public static partial void JobFailed(ILogger logger, string job_id, string job_type, string queue, int attempt, string error);

    [LoggerMessage(6, LogLevel.Warning, "The store {store} is unavailable during {operation}; retrying in {delay_ms} ms")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, string store, string operation, int delay_ms);

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

    [LoggerMessage(12, LogLevel.Warning, "Lost the lease of job {job_id}: its handler is cancelled and its result will not be recorded")]
    public static partial void LeaseLost(ILogger logger, string job_id);

    [LoggerMessage(41, LogLevel.Warning, "The janitor is behind: {backlog} expired finished jobs found since it last caught up, growing over {runs} runs; the store grows until deletion keeps up (shorten retention, or see the janitor's interval and the store's load)")]
    public static partial void JanitorBehind(ILogger logger, long backlog, int runs);

    [LoggerMessage(13, LogLevel.Error, "{component} failed; it carries on at its next tick")]
    public static partial void ComponentFailed(ILogger logger, Exception exception, string component);

    [LoggerMessage(60, LogLevel.Warning, "{component} cannot reach the store; it keeps trying every tick and says when the store answers again")]
    public static partial void ComponentStoreUnavailable(ILogger logger, Exception exception, string component);

    [LoggerMessage(61, LogLevel.Information, "{component} reaches the store again after {outage_s:F1} s")]
    public static partial void ComponentStoreAvailableAgain(ILogger logger, string component, double outage_s);

    [LoggerMessage(40, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) has no handler in this server: snoozed until {until:O} for a server that handles it")]
    public static partial void UnknownJobTypeSnoozed(ILogger logger, string job_id, string job_type, string queue, DateTimeOffset until);

    [LoggerMessage(14, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) cancelled while running")]
    public static partial void JobCancelled(ILogger logger, string job_id, string job_type, string queue);

    [LoggerMessage(50, LogLevel.Warning, "Second stop signal: cancelling the {running} running jobs now and returning them to their queues")]
    public static partial void ShutdownGraceCutShort(ILogger logger, int running);

    [LoggerMessage(51, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}, attempt {attempt}) interrupted by the shutdown after {elapsed_ms:F1} ms: returned to its queue, the attempt not counted")]
    public static partial void AttemptReleased(ILogger logger, string job_id, string job_type, string queue, int attempt, double elapsed_ms);

    [LoggerMessage(70, LogLevel.Information, "Schedules from code and configuration: {defined} defined, {created} created, {changed} changed, {deleted} no longer defined and deleted")]
    public static partial void SchedulesReconciled(ILogger logger, int defined, int created, int changed, int deleted);

    [LoggerMessage(71, LogLevel.Information, "Schedule {schedule} of tenant {tenant} is no longer defined in code or configuration: deleted")]
    public static partial void ScheduleRemoved(ILogger logger, string tenant, string schedule);

    [LoggerMessage(72, LogLevel.Debug, "Schedule {schedule} of tenant {tenant} fired for {tick:O}: job {job_id} ({outcome})")]
    public static partial void ScheduleFired(ILogger logger, string tenant, string schedule, DateTimeOffset tick, string job_id, string outcome);

    [LoggerMessage(73, LogLevel.Warning, "Schedule {schedule} of tenant {tenant} missed {missed} ticks from {first:O} to {last:O} (misfire policy {policy})")]
    public static partial void ScheduleMisfired(ILogger logger, string tenant, string schedule, int missed, DateTimeOffset first, DateTimeOffset last, string policy);

    [LoggerMessage(74, LogLevel.Information, "Schedule {schedule} of tenant {tenant} skipped its tick {tick:O}: the job of its previous tick, {job_id}, has not finished")]
    public static partial void ScheduleOverlapSkipped(ILogger logger, string tenant, string schedule, DateTimeOffset tick, string job_id);

    [LoggerMessage(75, LogLevel.Error, "Schedule {schedule} of tenant {tenant} cannot fire: {problem}")]
    public static partial void ScheduleBroken(ILogger logger, string tenant, string schedule, string problem);
}
