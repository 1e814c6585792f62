using Microsoft.Extensions.Logging;

namespace Conveyor;

/// <summary>The log lines of event fan-out.</summary>
internal static partial class Log
{
    [LoggerMessage(900, LogLevel.Warning, "Event {event_type} published with no subscriber: nothing was stored (Conveyor:Events:NoSubscribers=Log)")]
    public static partial void EventWithoutSubscribers(ILogger logger, string event_type);

    [LoggerMessage(901, LogLevel.Debug, "Event {event_type} published: {count} subscriber jobs stored")]
    public static partial void EventPublished(ILogger logger, string event_type, int count);

    [LoggerMessage(902, LogLevel.Information, "Event {event_type} not published: its subscriber job {job_type} duplicates job {job_id}")]
    public static partial void EventDuplicate(ILogger logger, string event_type, string job_type, string job_id);
}
