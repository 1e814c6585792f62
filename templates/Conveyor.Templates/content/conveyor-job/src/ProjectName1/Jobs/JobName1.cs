using Conveyor;

namespace ProjectName1.Jobs;

/// <summary>The payload of the domain:action job: ids, not whole objects (it is stored as JSON, snake_case).</summary>
public sealed record JobName1(long Id) : IJobPayload
{
    public static string JobType => "domain:action";

    /// <summary>The options this job is usually enqueued with.</summary>
    public static JobOptions DefaultOptions { get; } = new() { MaxRetry = 3, Timeout = TimeSpan.FromSeconds(30) };
}
