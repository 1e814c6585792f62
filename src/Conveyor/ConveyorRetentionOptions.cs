using Conveyor.Configuration;

namespace Conveyor;

/// <summary>
/// How long finished jobs are kept by outcome when the job does not say, bound from <c>Conveyor:Retention</c>.
/// The defaults keep a store small at any rate (a server finishing 1,000 jobs/s keeps 3.6 million succeeded jobs
/// for an hour, not 86 million for a day) while failures stay readable for a week.
/// </summary>
public sealed class ConveyorRetentionOptions
{
    /// <summary>Succeeded jobs. 0 – 10 years, default 1 hour.</summary>
    [SettingRange("00:00:00", "3650.00:00:00", ErrorMessage = "Conveyor:Retention:Succeeded must be between {1} and {2}.")]
    public TimeSpan Succeeded { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Failed and partially successful jobs. 0 – 10 years, default 7 days.</summary>
    [SettingRange("00:00:00", "3650.00:00:00", ErrorMessage = "Conveyor:Retention:Failed must be between {1} and {2}.")]
    public TimeSpan Failed { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Cancelled jobs. 0 – 10 years, default 1 day.</summary>
    [SettingRange("00:00:00", "3650.00:00:00", ErrorMessage = "Conveyor:Retention:Cancelled must be between {1} and {2}.")]
    public TimeSpan Cancelled { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Retention for one job type, in place of the defaults above for the outcomes it sets (a job's own
    /// <see cref="JobOptions"/> still wins). Keyed by job type, e.g. <c>o.Retention.JobTypes["email:send"] = new() { Succeeded = TimeSpan.FromDays(30) }</c>
    /// (from configuration as <c>Conveyor:Retention:JobTypes:email:send:Failed</c>: the levels before the ages spell the type).
    /// </summary>
    public Dictionary<string, JobTypeRetention> JobTypes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The longest retention accepted, 10 years: the bound of <see cref="Succeeded"/>, <see cref="Failed"/> and <see cref="Cancelled"/>, also per job type.</summary>
    internal static readonly TimeSpan MaxAge = TimeSpan.FromDays(3650);

    /// <summary>The largest count cap accepted: the janitor's cost per batch grows with the count a queue keeps.</summary>
    public const int MaxCount = 100_000;

    /// <summary>
    /// A cap on the succeeded jobs each queue keeps: the newest this many stay and older ones are deleted by the
    /// janitor, whatever their age retention says (a job leaves at whichever comes first). 0 – 100,000; default
    /// null, no cap. Applies to the queues this server serves, those of every live server, and those named in
    /// <see cref="Queues"/>.
    /// </summary>
    public int? MaxSucceededPerQueue { get; set; }

    /// <summary>
    /// A cap on the failed, partially successful and cancelled jobs each queue keeps (counted together), as
    /// <see cref="MaxSucceededPerQueue"/> for succeeded jobs. 0 – 100,000; default null, no cap.
    /// </summary>
    public int? MaxFailedPerQueue { get; set; }

    /// <summary>
    /// Count caps for one queue, in place of <see cref="MaxSucceededPerQueue"/> and <see cref="MaxFailedPerQueue"/>
    /// for the outcomes it sets, e.g. <c>Conveyor:Retention:Queues:emails:MaxSucceeded = 1000</c>. A queue named here is
    /// trimmed even when no live server serves it.
    /// </summary>
    public Dictionary<string, QueueRetention> Queues { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The count caps of <paramref name="queue"/>: its own, else the server's defaults; null where there is none.</summary>
    internal (int? Succeeded, int? Failed) CapsOf(string queue)
    {
        var own = Queues.GetValueOrDefault(queue);
        return (own?.MaxSucceeded ?? MaxSucceededPerQueue, own?.MaxFailed ?? MaxFailedPerQueue);
    }

    /// <summary>True when any queue may have a count cap.</summary>
    internal bool HasCaps =>
        MaxSucceededPerQueue is not null || MaxFailedPerQueue is not null
        || Queues.Values.Any(static q => q?.MaxSucceeded is not null || q?.MaxFailed is not null);
}

/// <summary>How many finished jobs one queue keeps; an unset count uses <see cref="ConveyorRetentionOptions"/>'s per-queue default.</summary>
public sealed class QueueRetention
{
    /// <summary>The newest succeeded jobs the queue keeps (0 – 100,000).</summary>
    public int? MaxSucceeded { get; set; }

    /// <summary>The newest failed, partially successful and cancelled jobs the queue keeps, together (0 – 100,000).</summary>
    public int? MaxFailed { get; set; }
}

/// <summary>How long jobs of one type are kept by outcome (each 0 – 10 years); an unset outcome uses <see cref="ConveyorRetentionOptions"/>.</summary>
public sealed class JobTypeRetention
{
    /// <summary>Succeeded jobs of the type.</summary>
    public TimeSpan? Succeeded { get; set; }

    /// <summary>Failed and partially successful jobs of the type.</summary>
    public TimeSpan? Failed { get; set; }

    /// <summary>Cancelled jobs of the type.</summary>
    public TimeSpan? Cancelled { get; set; }
}
