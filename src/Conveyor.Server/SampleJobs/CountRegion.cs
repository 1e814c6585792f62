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

/// <summary>Leaves the region's count as the job's result.</summary>
public sealed class CountRegionHandler : IJobHandler<CountRegion>
{
    /// <summary>The most orders a step reports, so that a total of many steps stays well inside a long.</summary>
    public const int MaxOrders = 1_000_000_000;

    public Task HandleAsync(CountRegion payload, JobContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(payload.Day) || string.IsNullOrWhiteSpace(payload.Region))
        {
            throw new SkipRetryException($"day and region are required, e.g. {{\"day\": \"2026-12-01\", \"region\": \"eu\"}}; got day '{payload.Day}' and region '{payload.Region}'.");
        }

        if (payload.Orders is < 0 or > MaxOrders)
        {
            throw new SkipRetryException($"orders must be between 0 and {MaxOrders}; got {payload.Orders}.");
        }

        if (payload.Fail)
        {
            throw new SkipRetryException($"counting {payload.Region} failed, as the payload asked.");
        }

        context.SetJsonResult(new RegionCount(payload.Region, payload.Orders ?? payload.Region.Length * 10));
        return Task.CompletedTask;
    }
}
