namespace Conveyor.Server;

/// <summary>
/// The levels the logging filter reads (<c>Logging:LogLevel:…</c> and <c>Logging:&lt;provider&gt;:LogLevel:…</c>, every
/// value below them, as <c>Logging:LogLevel:Microsoft:AspNetCore</c>), checked as it reads them: a name of
/// <see cref="LogLevel"/> in any letter case, or a number, or empty for none. The filter throws on any other value while
/// the host is built, outside every check of the start, and the process ended on an unhandled exception with a stack
/// trace instead of one line naming the setting.
/// </summary>
internal static class LogLevelSettings
{
    private static readonly string Accepted = string.Join(", ", Enum.GetNames<LogLevel>());

    public static void ThrowIfInvalid(IConfiguration configuration)
    {
        var logging = configuration.GetSection("Logging");
        Check(logging.GetSection("LogLevel"));
        foreach (var provider in logging.GetChildren())
        {
            Check(provider.GetSection("LogLevel"));
        }
    }

    private static void Check(IConfigurationSection levels)
    {
        foreach (var (key, value) in levels.AsEnumerable())
        {
            if (!string.IsNullOrEmpty(value) && !Enum.TryParse<LogLevel>(value, ignoreCase: true, out _))
            {
                throw new InvalidSettingException($"{key} is '{value}'; it accepts one of: {Accepted}.");
            }
        }
    }
}
