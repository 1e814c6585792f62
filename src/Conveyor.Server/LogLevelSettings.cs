namespace Conveyor.Server;

/// <summary>
/// The levels under <c>Logging</c> (<c>Logging:LogLevel:Default</c>, <c>Logging:Console:LogLevel:Conveyor</c>), checked
/// as the logging filter reads them: a name of <see cref="LogLevel"/> in any letter case, or empty for none. The filter
/// throws on any other value while the host is built, outside every check of the start, and the process ended on an
/// unhandled exception with a stack trace instead of one line naming the setting.
/// </summary>
internal static class LogLevelSettings
{
    private static readonly string Accepted = string.Join(", ", Enum.GetNames<LogLevel>());

    public static void ThrowIfInvalid(IConfiguration configuration) => Check(configuration.GetSection("Logging"));

    private static void Check(IConfigurationSection section)
    {
        foreach (var child in section.GetChildren())
        {
            if (string.Equals(child.Key, "LogLevel", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var level in child.GetChildren())
                {
                    if (!string.IsNullOrEmpty(level.Value) && !Enum.TryParse<LogLevel>(level.Value, ignoreCase: true, out _))
                    {
                        throw new InvalidSettingException($"{level.Path} is '{level.Value}'; it accepts one of: {Accepted}.");
                    }
                }
            }
            else
            {
                Check(child);
            }
        }
    }
}
