using System.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Conveyor.OpenTelemetry.Tests;

/// <summary>
/// AddConveyorInstrumentation() with OpenTelemetry's in-memory exporter, a real server loop on the in-memory store:
/// a job enqueued in a request's trace, failing its first attempt and succeeding its second, leaves a send span and
/// one process span per attempt, each a child of the send span and linked to it, with the messaging attributes; the
/// meter stream carries the contract metrics with their labels.
/// </summary>
public sealed class InstrumentationTests
{
    private static readonly ActivitySource Caller = new("test.caller");

    [Fact]
    public async Task EnqueueThenAFailedAndASucceededAttempt_MakeASpanTreeAndTheContractMetrics()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Caller.Name)
            .AddConveyorInstrumentation()
            .AddInMemoryExporter(spans)
            .Build();
        using var meters = Sdk.CreateMeterProviderBuilder()
            .AddConveyorInstrumentation()
            .AddInMemoryExporter(metrics)
            .Build();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddConveyor()
            .UseInMemoryStore()
            .AddHandler<FailsOnceHandler>()
            .UseRetryPolicy<ImmediateRetry>()
            .AddServer(o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.PromoteInterval = TimeSpan.FromMilliseconds(50);
            });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            string jobId;
            ActivityTraceId trace;
            using (var request = Caller.StartActivity("request"))
            {
                trace = request!.TraceId;
                jobId = (await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(new FailsOnceJob())).JobId;
            }

            var store = host.Services.GetRequiredService<IJobStore>();
            await WaitUntilAsync(async () => (await store.GetAsync(TenantId.Default, jobId, CancellationToken.None))?.State == JobState.Succeeded);
            await WaitUntilAsync(() => Task.FromResult(ProcessSpans(spans).Count == 2));

            var send = Assert.Single(spans, s => s.DisplayName == "send default");
            Assert.Equal(ActivityKind.Producer, send.Kind);
            Assert.Equal(trace, send.TraceId);
            AssertMessagingTags(send, "send", jobId);

            var attempts = ProcessSpans(spans).OrderBy(s => (int)s.GetTagItem("conveyor.job.attempt")!).ToList();
            foreach (var (attempt, span) in attempts.Select((s, i) => (i + 1, s)))
            {
                Assert.Equal("process default", span.DisplayName);
                Assert.Equal(ActivityKind.Consumer, span.Kind);
                Assert.Equal(trace, span.TraceId);
                Assert.Equal(send.SpanId, span.ParentSpanId);
                Assert.Equal(send.SpanId, Assert.Single(span.Links).Context.SpanId);
                AssertMessagingTags(span, "process", jobId);
                Assert.Equal(attempt, span.GetTagItem("conveyor.job.attempt"));
                Assert.Equal(FailsOnceJob.JobType, span.GetTagItem("conveyor.job.type"));
            }

            Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
            Assert.Contains(attempts[0].Events, e => e.Name == "exception");
            Assert.Equal(ActivityStatusCode.Ok, attempts[1].Status);

            meters.ForceFlush();
            var processed = Assert.Single(metrics, m => m.Name == "job_processed_total");
            var byStatus = Points(processed)
                .Where(p => Tag(p, "task_type") == FailsOnceJob.JobType && Tag(p, "queue") == "default")
                .ToDictionary(p => Tag(p, "status")!, p => p.GetSumLong());
            Assert.Equal(1, byStatus["failed"]);
            Assert.Equal(1, byStatus["success"]);

            var duration = Assert.Single(metrics, m => m.Name == "job_duration_seconds");
            Assert.Equal(MetricType.Histogram, duration.MetricType);
            var point = Assert.Single(Points(duration), p => Tag(p, "task_type") == FailsOnceJob.JobType && Tag(p, "queue") == "default");
            Assert.Equal(2, point.GetHistogramCount());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void AddConveyorInstrumentation_RefusesANullBuilder()
    {
        Assert.Throws<ArgumentNullException>(() => ConveyorInstrumentationExtensions.AddConveyorInstrumentation((TracerProviderBuilder)null!));
        Assert.Throws<ArgumentNullException>(() => ConveyorInstrumentationExtensions.AddConveyorInstrumentation((MeterProviderBuilder)null!));
    }

    private static List<Activity> ProcessSpans(List<Activity> spans)
    {
        lock (spans)
        {
            return spans.Where(s => s.GetTagItem("messaging.operation.type") as string == "process").ToList();
        }
    }

    private static void AssertMessagingTags(Activity span, string operation, string jobId)
    {
        Assert.Equal("conveyor", span.GetTagItem("messaging.system"));
        Assert.Equal(operation, span.GetTagItem("messaging.operation.type"));
        Assert.Equal("default", span.GetTagItem("messaging.destination.name"));
        Assert.Equal(jobId, span.GetTagItem("messaging.message.id"));
    }

    private static List<MetricPoint> Points(Metric metric)
    {
        var points = new List<MetricPoint>();
        foreach (ref readonly var p in metric.GetMetricPoints())
        {
            points.Add(p);
        }

        return points;
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value?.ToString();
            }
        }

        return null;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "The condition did not hold within 10 s.");
            await Task.Delay(10);
        }
    }
}

internal sealed record FailsOnceJob : IJobPayload
{
    public static string JobType => "test:fails-once";
}

internal sealed class FailsOnceHandler : IJobHandler<FailsOnceJob>
{
    public Task HandleAsync(FailsOnceJob payload, JobContext context, CancellationToken cancellationToken) =>
        context.Attempt == 1 ? throw new InvalidOperationException("transient failure") : Task.CompletedTask;
}

internal sealed class ImmediateRetry : IRetryPolicy
{
    public TimeSpan GetDelay(RetryDelayArguments arguments) => TimeSpan.FromMilliseconds(10);
}
