using Microsoft.Extensions.Configuration;

namespace Conveyor.Configuration;

/// <summary>
/// Per-job-type retention from configuration. A job type is <c>domain:action</c>, and configuration reads ':' as its
/// separator, so <c>Conveyor:Retention:JobTypes:email:send:Failed</c> (the environment's
/// <c>Conveyor__Retention__JobTypes__email__send__Failed</c>) reaches the binder as type <c>email</c> with an unknown
/// <c>send</c>: no type could be set there. Here a level whose children are not the ages themselves is read as the next
/// part of the type's name.
/// </summary>
internal static class JobTypeRetentionSettings
{
    private static readonly string[] Ages = [nameof(JobTypeRetention.Succeeded), nameof(JobTypeRetention.Failed), nameof(JobTypeRetention.Cancelled)];

    /// <summary>Replaces what the binder made of <c>Conveyor:Retention:JobTypes</c> with the types the keys spell.</summary>
    public static void Bind(IConfiguration conveyor, ConveyorRetentionOptions retention)
    {
        var jobTypes = conveyor.GetSection("Retention:JobTypes");
        foreach (var first in jobTypes.GetChildren())
        {
            // The binder made the first part a type of its own, with nothing set when only deeper levels hold ages (an
            // entry that sets nothing is no entry; one set in code stays).
            if (!HasAges(first) && retention.JobTypes.TryGetValue(first.Key, out var made) && made is { Succeeded: null, Failed: null, Cancelled: null })
            {
                retention.JobTypes.Remove(first.Key);
            }

            foreach (var deeper in first.GetChildren().Where(static c => !IsAge(c)))
            {
                BindDeeper(deeper, first.Key, retention);
            }
        }
    }

    private static void BindDeeper(IConfigurationSection section, string prefix, ConveyorRetentionOptions retention)
    {
        var type = prefix + ":" + section.Key;
        if (HasAges(section))
        {
            var ages = retention.JobTypes.TryGetValue(type, out var existing) ? existing : retention.JobTypes[type] = new JobTypeRetention();
            section.Bind(ages);
        }

        foreach (var deeper in section.GetChildren().Where(static c => !IsAge(c)))
        {
            BindDeeper(deeper, type, retention);
        }
    }

    private static bool HasAges(IConfigurationSection section) => section.GetChildren().Any(IsAge);

    private static bool IsAge(IConfigurationSection section) => Ages.Contains(section.Key, StringComparer.OrdinalIgnoreCase);
}
