using Conveyor.Diagnostics;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// An attempt whose lease ended under it is counted as its log line names it, <c>lease_lost</c>: not as a failure of the
/// job (nothing of the attempt is recorded and the job runs again), which would raise the failure ratio during an outage.
/// </summary>
public sealed class LeaseLostMetricsTests
{
    [Theory]
    [InlineData(false)] // the handler stops when its token is cancelled for the lost lease
    [InlineData(true)] // the handler ignores its token and returns after the lease ended
    public async Task AnAttemptWhoseLeaseExpiresUnextended_IsCountedAsLeaseLost_NotFailed(bool ignoreCancellation)
    {
        var (store, control) = UnreliableStore.Wrap(new Conveyor.Storage.InMemory.InMemoryJobStore());
        await using var harness = await ServerHarness.StartAsync(configureServer: o => o.LeaseDuration = TimeSpan.FromMilliseconds(300), store: store);
        using var processed = new MetricCollector<long>(harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_processed_total");
        var result = await harness.Client.EnqueueAsync(new SlowJob(800, ignoreCancellation));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId), because: "the job starts");

        control.Available = false;
        await Eventually.HoldsAsync(() => processed.GetMeasurementSnapshot().Any(m => m.Value > 0), because: "the attempt ends");
        control.Available = true;

        var counted = Assert.Single(processed.GetMeasurementSnapshot(), m => m.Value > 0);
        Assert.Equal((AttemptStatus.LeaseLost, "test:slow"), ((string?)counted.Tags["status"], (string?)counted.Tags["task_type"]));
    }
}
