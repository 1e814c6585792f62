using System.Text;

namespace Conveyor;

/// <summary>
/// The job type of an event's subscriber: the event type, a dot and the subscriber's name, e.g. <c>note:created.index-note</c>
/// for the subscriber <c>IndexNote</c> of <c>note:created</c>. Metrics (<c>task_type</c>), the Jobs API and the dashboard
/// show every subscriber of an event as a job type of its own.
/// </summary>
public static class EventJobType
{
    /// <summary>Longest subscriber name.</summary>
    public const int MaxNameLength = 50;

    /// <summary><c>{eventType}.{subscriberName}</c>.</summary>
    /// <exception cref="ArgumentException">The event type or the name is not valid, or the result is longer than <see cref="JobType.MaxLength"/>.</exception>
    public static string For(string eventType, string subscriberName)
    {
        JobType.EnsureValid(eventType, nameof(eventType));
        EnsureValidName(subscriberName);
        var jobType = $"{eventType}.{subscriberName}";
        if (!JobType.IsValid(jobType))
        {
            throw new ArgumentException(
                $"The job type '{jobType}' of subscriber '{subscriberName}' of event '{eventType}' is longer than {JobType.MaxLength} characters: choose a shorter subscriber name.",
                nameof(subscriberName));
        }

        return jobType;
    }

    /// <summary>
    /// The default name of a subscriber class: its name in kebab case, without a <c>Subscriber</c> or <c>Handler</c>
    /// suffix (<c>IndexNote</c> → <c>index-note</c>, <c>NotifyFollowersSubscriber</c> → <c>notify-followers</c>).
    /// </summary>
    public static string DefaultName(Type subscriberType)
    {
        ArgumentNullException.ThrowIfNull(subscriberType);
        var name = subscriberType.Name;
        var generic = name.IndexOf('`', StringComparison.Ordinal);
        if (generic > 0)
        {
            name = name[..generic];
        }

        foreach (var suffix in (string[])["Subscriber", "Handler"])
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        var kebab = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsAsciiLetterUpper(c))
            {
                if (i > 0 && (char.IsAsciiLetterLower(name[i - 1]) || char.IsAsciiDigit(name[i - 1]) || (i + 1 < name.Length && char.IsAsciiLetterLower(name[i + 1]) && char.IsAsciiLetterUpper(name[i - 1]))))
                {
                    kebab.Append('-');
                }

                kebab.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            {
                kebab.Append(c);
            }
            else
            {
                kebab.Append('-');
            }
        }

        return kebab.ToString().Trim('-');
    }

    /// <summary>True for 1 to <see cref="MaxNameLength"/> lowercase letters, digits, '_' and '-'.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength
        && name.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-');

    internal static void EnsureValidName(string? name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"Subscriber name '{name}' is not valid: use 1 to {MaxNameLength} lowercase letters, digits, '_' or '-' (e.g. 'index-note').",
                nameof(name));
        }
    }
}
