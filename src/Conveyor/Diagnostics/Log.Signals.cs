using Microsoft.Extensions.Logging;

namespace Conveyor;

/// <summary>The log lines of waits for signals.</summary>
internal static partial class Log
{
    [LoggerMessage(120, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: {outcome} after {duration_ms:F1} ms: waits for signal '{signal}' until {until}, without a worker slot (trace {trace_id})")]
    private static partial void AttemptParkedLine(ILogger logger, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string signal, string until, string? trace_id);

    public static void AttemptParked(ILogger logger, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string signal, DateTimeOffset until, string? trace_id)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            AttemptParkedLine(logger, job_id, job_type, queue, attempt, duration_ms, outcome, signal, InstantText.Format(until), trace_id);
        }
    }

    [LoggerMessage(124, LogLevel.Information, "Job {job_id} ({job_type}, queue {queue}) attempt {attempt}: {outcome} after {duration_ms:F1} ms: signal '{signal}' came, or its wait ended, as the job was being parked; back to its queue to run again at once, the attempt not counted (trace {trace_id})")]
    public static partial void AttemptWaitEndedAsParked(ILogger logger, string job_id, string job_type, string queue, int attempt, double duration_ms, string outcome, string signal, string? trace_id);

    [LoggerMessage(121, LogLevel.Warning, "Job {job_id} ({job_type}, queue {queue}) could not be parked to wait for signal '{signal}': {reason}; its lease expires and it runs again")]
    private static partial void SignalWaitFailedLine(ILogger logger, string job_id, string job_type, string queue, string signal, string reason);

    /// <summary>The reason is the store client's error text, escaped (<see cref="LogText.Escape"/>).</summary>
    public static void SignalWaitFailed(ILogger logger, string job_id, string job_type, string queue, string signal, string reason)
    {
        if (logger.IsEnabled(LogLevel.Warning))
        {
            SignalWaitFailedLine(logger, job_id, job_type, queue, signal, LogText.Escape(reason));
        }
    }
}
