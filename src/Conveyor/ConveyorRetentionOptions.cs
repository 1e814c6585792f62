using System.ComponentModel.DataAnnotations;

namespace Conveyor;

/// <summary>
/// How long finished jobs are kept by outcome when the job does not say, bound from <c>Conveyor:Retention</c>.
/// The defaults keep a store small at any rate (a server finishing 1,000 jobs/s keeps 3.6 million succeeded jobs
/// for an hour, not 86 million for a day) while failures stay readable for a week.
/// </summary>
public sealed class ConveyorRetentionOptions
{
    /// <summary>Succeeded jobs. 0 – 10 years, default 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "Conveyor:Retention:Succeeded must be between {1} and {2}.")]
    public TimeSpan Succeeded { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Failed and partially successful jobs. 0 – 10 years, default 7 days.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "Conveyor:Retention:Failed must be between {1} and {2}.")]
    public TimeSpan Failed { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Cancelled jobs. 0 – 10 years, default 1 day.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "Conveyor:Retention:Cancelled must be between {1} and {2}.")]
    public TimeSpan Cancelled { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Retention for one job type, in place of the defaults above for the outcomes it sets (a job's own
    /// <see cref="JobOptions"/> still wins). Keyed by job type, e.g. <c>o.Retention.JobTypes["email:send"] = new() { Succeeded = TimeSpan.FromDays(30) }</c>
    /// (from configuration only for type names without ':', which configuration reads as a separator).
    /// </summary>
    public Dictionary<string, JobTypeRetention> JobTypes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>How long jobs of one type are kept by outcome; an unset outcome uses <see cref="ConveyorRetentionOptions"/>.</summary>
public sealed class JobTypeRetention
{
    /// <summary>Succeeded jobs of the type.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan? Succeeded { get; set; }

    /// <summary>Failed and partially successful jobs of the type.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan? Failed { get; set; }

    /// <summary>Cancelled jobs of the type.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan? Cancelled { get; set; }
}
