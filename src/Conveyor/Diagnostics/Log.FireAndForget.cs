using Microsoft.Extensions.Logging;

namespace Conveyor;

/// <summary>The log lines of fire-and-forget enqueues (event ids 70–79).</summary>
internal static partial class Log
{
    [LoggerMessage(130, LogLevel.Warning, "Fire-and-forget: {count} jobs of type {job_type} for queue {queue} were dropped ({reason}): {detail}")]
    public static partial void FireAndForgetDropped(ILogger logger, long count, string job_type, string queue, string reason, string detail);

    [LoggerMessage(131, LogLevel.Error, "Fire-and-forget: {count} jobs of type {job_type} for queue {queue} were not stored ({reason}): {detail}")]
    public static partial void FireAndForgetNotStored(ILogger logger, Exception? exception, int count, string job_type, string queue, string reason, string detail);

    [LoggerMessage(132, LogLevel.Debug, "Fire-and-forget: stored {count} jobs in one round trip")]
    public static partial void FireAndForgetStored(ILogger logger, int count);

    [LoggerMessage(133, LogLevel.Warning, "Fire-and-forget: the store is unavailable; retrying a batch of {count} jobs for up to {timeout_s} s")]
    public static partial void FireAndForgetRetrying(ILogger logger, Exception exception, int count, double timeout_s);

    [LoggerMessage(134, LogLevel.Information, "Fire-and-forget: stopping; storing the {count} buffered jobs within {timeout_s} s")]
    public static partial void FireAndForgetFlushing(ILogger logger, int count, double timeout_s);
}
