using Microsoft.Extensions.Logging.Console;

namespace Conveyor.Server;

/// <summary>
/// appsettings.json gives the console's formatter options a short local time for the plain-text lines, and every console
/// formatter reads the same section: chosen with <c>Logging:Console:FormatterName=json</c>, the JSON lines would carry
/// that time of day alone ("06:17:47.797 "). A JSON line gets a full UTC time instead, unless its format was set.
/// </summary>
internal static class JsonLogTimestamps
{
    public const string PlainTextFormat = "HH:mm:ss.fff ";

    public const string JsonFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static void Register(IServiceCollection services) =>
        services.PostConfigure<JsonConsoleFormatterOptions>(static options =>
        {
            if (options.TimestampFormat == PlainTextFormat)
            {
                options.TimestampFormat = JsonFormat;
                options.UseUtcTimestamp = true;
            }
        });
}
