namespace Conveyor;

/// <summary>The three queues of the seed, and the rule for queue names.</summary>
public static class QueueName
{
    /// <summary>Urgent work; weight 6 by default.</summary>
    public const string Critical = "critical";

    /// <summary>Most jobs; weight 3 by default.</summary>
    public const string Default = "default";

    /// <summary>Background, non-urgent work; weight 1 by default.</summary>
    public const string Low = "low";

    /// <summary>Longest queue name accepted.</summary>
    public const int MaxLength = 64;

    /// <summary>The rule of <see cref="IsConfigurable"/>, as the settings' messages give it.</summary>
    internal const string ConfigurableRule = "1 to 64 letters, digits, '_', '-' or '.', not '.' or '..'";

    /// <summary>
    /// A queue name an application may give a new job, schedule, subscriber or setting (queues served, limits,
    /// retention, health thresholds, the fire-and-forget queue): <see cref="IsValid"/>, and not '.' or '..', which no URL
    /// path can name, so that the Jobs API and the dashboard could never reach the queue's jobs, and no server serves
    /// them (the stores accept them, for data stored before).
    /// </summary>
    internal static bool IsConfigurable(string? name) => IsValid(name) && name is not ("." or "..");

    /// <summary>True for 1 to 64 characters of letters, digits, '_', '-' and '.'.</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
