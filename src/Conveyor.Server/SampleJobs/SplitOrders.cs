namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The first step of the fan-out/fan-in workflow of docs/async-jobs.md: stands for splitting a day's orders by region,
/// which the <c>orders:count-region</c> steps after it count. Payload <c>{"day": "2026-12-01"}</c>.
/// </summary>
public sealed record SplitOrders(string Day) : IJobPayload
{
    public static string JobType => "orders:split";
}

/// <summary>Does nothing but check the day: the split itself is the workflow's fan-out.</summary>
public sealed class SplitOrdersHandler : IJobHandler<SplitOrders>
{
    public Task HandleAsync(SplitOrders payload, JobContext context, CancellationToken cancellationToken) =>
        string.IsNullOrWhiteSpace(payload.Day) ? throw new SkipRetryException($"day is required, e.g. \"2026-12-01\"; got '{payload.Day}'.") : Task.CompletedTask;
}
