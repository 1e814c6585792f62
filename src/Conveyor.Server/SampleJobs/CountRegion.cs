namespace Conveyor.Server.SampleJobs;

/// <summary>
/// A fan-out step of the workflow of docs/async-jobs.md: counts one region's orders of a day and leaves the count as its
/// result (<see cref="RegionCount"/>) for the step that totals them. Payload <c>{"day": "2026-12-01", "region": "eu"}</c>;
/// <c>orders</c> sets the count (a known total to check the fan-in against), else it is ten per letter of the region.
/// <c>fail</c> true fails the step for good, to watch a workflow's <c>on_dependency_failure</c> policies.
/// </summary>
public sealed record CountRegion(string Day, string Region, int? Orders = null, bool Fail = false) : IJobPayload
{
    public static string JobType => "orders:count-region";
}

/// <summary>The result of <c>orders:count-region</c>.</summary>
public sealed record RegionCount(string Region, int Orders);

public sealed class CountRegionHandler : IJobHandler<CountRegion>
{
    public Task HandleAsync(CountRegion payload, JobContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(payload.Region) || payload.Orders < 0)
        {
            throw new SkipRetryException("region is required and orders, when given, cannot be negative.");
        }

        if (payload.Fail)
        {
            throw new SkipRetryException($"counting {payload.Region} failed, as the payload asked.");
        }

        context.SetJsonResult(new RegionCount(payload.Region, payload.Orders ?? payload.Region.Length * 10));
        return Task.CompletedTask;
    }
}
