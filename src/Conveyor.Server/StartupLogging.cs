namespace Conveyor.Server;

/// <summary>
/// Until the server has started, a start-up failure is reported once, by the entry point, as one line; the host's own
/// log of it (an error with the stack trace, from the generic host and from ASP.NET Core's hosting) is held back.
/// From the start on, these categories log as configured (warnings and above).
/// </summary>
internal static class StartupLogging
{
    private static volatile bool _started;

    public static void HoldBackHostStartFailureLogs(ILoggingBuilder logging)
    {
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", Filter);
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", Filter);
    }

    public static void StartedWhen(IHostApplicationLifetime lifetime) => lifetime.ApplicationStarted.Register(() => _started = true);

    private static bool Filter(LogLevel level) => level >= LogLevel.Warning && (_started || level < LogLevel.Error);
}
