namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The fan-in step of the workflow of docs/async-jobs.md: totals the counts its dependencies left (in its workflow, the
/// steps it runs after; as a batch callback, every member of the batch). Payload <c>{"day": "2026-12-01"}</c>; its result
/// is <see cref="OrdersTotal"/>.
/// </summary>
public sealed record TotalOrders(string Day) : IJobPayload
{
    public static string JobType => "orders:total";
}

/// <summary>
/// The result of <c>orders:total</c>: the orders counted, the dependencies that left a count, and those that did not
/// (failed or cancelled ones, when the step runs whatever its dependencies did).
/// </summary>
public sealed record OrdersTotal(string Day, long Orders, int Counted, int Missing);

/// <summary>Sums what the dependencies left; one that left no count (it failed, or was cancelled) is counted missing.</summary>
public sealed class TotalOrdersHandler : IJobHandler<TotalOrders>
{
    public async Task HandleAsync(TotalOrders payload, JobContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(payload.Day))
        {
            throw new SkipRetryException($"day is required, e.g. \"2026-12-01\"; got '{payload.Day}'.");
        }

        var counts = await context.GetDependencyResultsAsync<RegionCount>(cancellationToken);
        var counted = counts.Where(static c => c.Value is not null).ToList();
        context.SetJsonResult(new OrdersTotal(payload.Day, counted.Sum(static c => (long)c.Value!.Orders), counted.Count, counts.Count - counted.Count));
    }
}
