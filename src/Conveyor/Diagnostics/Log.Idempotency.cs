using Microsoft.Extensions.Logging;

namespace Conveyor;

/// <summary>
/// The log lines of handler idempotency. A key is the handler's, often taken from the payload, and an error is a store
/// client's text: both go through <see cref="LogText.Escape"/>.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(90, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) not run: idempotency key '{idempotency_key}' was done by job {done_by} at {finished_at}; acknowledged as succeeded")]
    private static partial void IdempotentSkippedLine(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string done_by, string finished_at);

    public static void IdempotentSkipped(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string done_by, DateTimeOffset finished_at)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            IdempotentSkippedLine(logger, job_id, job_type, queue, LogText.Escape(idempotency_key), done_by, InstantText.Format(finished_at));
        }
    }

    [LoggerMessage(91, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) snoozed until {until}: idempotency key '{idempotency_key}' is being processed by job {held_by}")]
    private static partial void IdempotentBusyLine(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string held_by, string until);

    public static void IdempotentBusy(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string held_by, DateTimeOffset until)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            IdempotentBusyLine(logger, job_id, job_type, queue, LogText.Escape(idempotency_key), held_by, InstantText.Format(until));
        }
    }

    [LoggerMessage(92, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}): the idempotency store is unreachable ({error}); fail-open, so the handler runs without the key's protection")]
    private static partial void IdempotencyFailOpenLine(ILogger logger, string job_id, string job_type, string queue, string error);

    public static void IdempotencyFailOpen(ILogger logger, string job_id, string job_type, string queue, string error)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IdempotencyFailOpenLine(logger, job_id, job_type, queue, LogText.Escape(error));
        }
    }

    [LoggerMessage(93, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}): the idempotency store is unreachable ({error}); fail-closed, so the job is snoozed until {until}")]
    private static partial void IdempotencyFailClosedLine(ILogger logger, string job_id, string job_type, string queue, string error, string until);

    public static void IdempotencyFailClosed(ILogger logger, string job_id, string job_type, string queue, string error, DateTimeOffset until)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IdempotencyFailClosedLine(logger, job_id, job_type, queue, LogText.Escape(error), InstantText.Format(until));
        }
    }

    [LoggerMessage(94, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) finished the work of idempotency key '{idempotency_key}' but could not record it as done ({error}): a duplicate that starts after the record expires would run again")]
    private static partial void IdempotencyCompleteFailedLine(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string error);

    public static void IdempotencyCompleteFailed(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string error)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IdempotencyCompleteFailedLine(logger, job_id, job_type, queue, LogText.Escape(idempotency_key), LogText.Escape(error));
        }
    }

    [LoggerMessage(95, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) finished the work of idempotency key '{idempotency_key}' after another attempt took the key over (this attempt's record had expired): the work may have run twice")]
    private static partial void IdempotencyTakenOverLine(ILogger logger, string job_id, string job_type, string queue, string idempotency_key);

    public static void IdempotencyTakenOver(ILogger logger, string job_id, string job_type, string queue, string idempotency_key)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IdempotencyTakenOverLine(logger, job_id, job_type, queue, LogText.Escape(idempotency_key));
        }
    }

    [LoggerMessage(96, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) could not release idempotency key '{idempotency_key}' after its attempt failed ({error}): a retry waits until the record expires")]
    private static partial void IdempotencyReleaseFailedLine(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string error);

    public static void IdempotencyReleaseFailed(ILogger logger, string job_id, string job_type, string queue, string idempotency_key, string error)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IdempotencyReleaseFailedLine(logger, job_id, job_type, queue, LogText.Escape(idempotency_key), LogText.Escape(error));
        }
    }

    [LoggerMessage(97, LogLevel.Warning, "Extending the idempotency records of {count} running jobs failed: {error}")]
    private static partial void IdempotencyExtendFailedLine(ILogger logger, int count, string error);

    public static void IdempotencyExtendFailed(ILogger logger, int count, string error)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            IdempotencyExtendFailedLine(logger, count, LogText.Escape(error));
        }
    }
}
