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

    [LoggerMessage(133, LogLevel.Warning, "Fire-and-forget: the store is unavailable or did not answer in time; trying a batch of {count} jobs again until it is stored ({buffered} more calls buffered)")]
    public static partial void FireAndForgetRetrying(ILogger logger, Exception exception, int count, int buffered);

    [LoggerMessage(135, LogLevel.Information, "Fire-and-forget: the store answered again; a batch of {count} jobs is stored after {attempts} attempts ({already_there} of them were there already: stored by an attempt that did not answer, or an explicit id or unique key in use)")]
    public static partial void FireAndForgetStoredAfterRetries(ILogger logger, int count, int attempts, int already_there);

    [LoggerMessage(136, LogLevel.Warning, "Fire-and-forget: the store did not store a batch of {count} jobs within {timeout_s} s; storing it in two halves")]
    public static partial void FireAndForgetSplitting(ILogger logger, int count, double timeout_s);

    [LoggerMessage(134, LogLevel.Information, "Fire-and-forget: stopping; storing the {count} buffered jobs within {timeout_s} s")]
    public static partial void FireAndForgetFlushing(ILogger logger, int count, double timeout_s);
}
