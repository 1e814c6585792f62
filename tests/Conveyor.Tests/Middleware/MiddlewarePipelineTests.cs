using System.Collections.Concurrent;
using System.Diagnostics;
using Conveyor.Diagnostics;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Conveyor.Tests.Middleware;

public sealed class MiddlewarePipelineTests
{
    [Fact]
    public async Task UserMiddleware_RunAfterTheBuiltIns_InRegistrationOrder()
    {
        var trail = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(
            configureConveyor: c => c.UseMiddleware<First>().UseMiddleware<Second>(),
            configureServices: s => s.AddSingleton(trail));

        var result = await harness.Client.EnqueueAsync(new EchoJob("x"));
        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        Assert.Equal(["first", "second"], trail);
    }

    [Fact]
    public async Task MetricsMiddleware_RecordsProcessedTotalAndDuration_WithTheContractsTags()
    {
        await using var harness = await ServerHarness.StartAsync();
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var processed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_processed_total");
        using var duration = new MetricCollector<double>(meterFactory, ConveyorMetrics.MeterName, "job_duration_seconds");

        var ok = await harness.Client.EnqueueAsync(new EchoJob("x"));
        var bad = await harness.Client.EnqueueAsync(new FlakyJob(1, SkipRetry: true), new JobOptions { Queue = QueueName.Low });
        await harness.WaitForStateAsync(ok.JobId, JobState.Succeeded);
        await harness.WaitForStateAsync(bad.JobId, JobState.Failed);

        var measurements = processed.GetMeasurementSnapshot();
        Assert.Contains(measurements, m => m.Value == 1 && (string?)m.Tags["task_type"] == "test:echo" && (string?)m.Tags["queue"] == "default" && (string?)m.Tags["status"] == "success");
        Assert.Contains(measurements, m => m.Value == 1 && (string?)m.Tags["task_type"] == "test:flaky" && (string?)m.Tags["queue"] == "low" && (string?)m.Tags["status"] == "failed");
        Assert.Contains(duration.GetMeasurementSnapshot(), m => (string?)m.Tags["task_type"] == "test:echo" && !m.Tags.ContainsKey("status"));
    }

    [Fact]
    public async Task TracingMiddleware_StartsAConsumerSpanPerAttempt_InTheTraceOfTheEnqueue()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ConveyorActivitySource.Name || s.Name == "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var testSource = new ActivitySource("test");
        await using var harness = await ServerHarness.StartAsync();

        EnqueueResult result;
        ActivityTraceId traceId;
        using (var request = testSource.StartActivity("request"))
        {
            traceId = request!.TraceId;
            result = await harness.Client.EnqueueAsync(new EchoJob("traced"));
        }

        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
        await Eventually.HoldsAsync(() => activities.Any(a => a.Kind == ActivityKind.Consumer));
        var producer = Assert.Single(activities, a => a.Kind == ActivityKind.Producer && a.TraceId == traceId);
        var consumer = Assert.Single(activities, a => a.Kind == ActivityKind.Consumer && (string?)a.GetTagItem("messaging.message.id") == result.JobId);
        Assert.Equal("send default", producer.DisplayName);
        Assert.Equal("process default", consumer.DisplayName);
        Assert.Equal(traceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
    }

    internal sealed class First(ConcurrentQueue<string> trail) : IJobMiddleware
    {
        public ValueTask InvokeAsync(JobContext context, JobDelegate next)
        {
            Assert.NotNull(Activity.Current is null ? "no listener, no span" : Activity.Current.DisplayName);
            trail.Enqueue("first");
            return next(context);
        }
    }

    internal sealed class Second(ConcurrentQueue<string> trail) : IJobMiddleware
    {
        public ValueTask InvokeAsync(JobContext context, JobDelegate next)
        {
            trail.Enqueue("second");
            return next(context);
        }
    }
}
