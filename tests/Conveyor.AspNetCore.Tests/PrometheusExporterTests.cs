using System.Diagnostics.Metrics;
using Conveyor.AspNetCore.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

public sealed class PrometheusExporterTests
{
    [Fact]
    public async Task RenderAsync_Histogram_WritesCumulativeBucketsSumAndCount()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var sut = new PrometheusExporter(factory, _ => Task.CompletedTask);
        var meter = factory.Create("Conveyor");
        var histogram = meter.CreateHistogram<double>("job_duration_seconds", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });

        histogram.Record(0.05, new KeyValuePair<string, object?>("queue", "q"));
        histogram.Record(0.1, new KeyValuePair<string, object?>("queue", "q"));
        histogram.Record(5, new KeyValuePair<string, object?>("queue", "q"));
        var text = await sut.RenderAsync(CancellationToken.None);

        Assert.Contains("# TYPE job_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_bucket{queue=\"q\",le=\"0.1\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_bucket{queue=\"q\",le=\"1\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_bucket{queue=\"q\",le=\"+Inf\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_sum{queue=\"q\"} 5.15\n", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_count{queue=\"q\"} 3\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_LabelValues_AreEscaped_AndOtherMetersIgnored()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var sut = new PrometheusExporter(factory, _ => Task.CompletedTask);
        var counter = factory.Create("Conveyor").CreateCounter<long>("job_processed_total");
        using var foreign = new Meter("Conveyor");
        foreign.CreateCounter<long>("job_foreign_total").Add(1);

        counter.Add(2, new KeyValuePair<string, object?>("task_type", "a\"b\\c\nd"));
        var text = await sut.RenderAsync(CancellationToken.None);

        Assert.Contains("job_processed_total{task_type=\"a\\\"b\\\\c\\nd\"} 2\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("job_foreign_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_FireAndForgetDrops_AreExposedByJobTypeQueueAndReason()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddConveyor().UseInMemoryStore().AddFireAndForget(o => o.BufferCapacity = 1);
        await using var provider = services.BuildServiceProvider();
        using var sut = new PrometheusExporter(provider.GetRequiredService<IMeterFactory>(), _ => Task.CompletedTask);
        var jobs = provider.GetRequiredService<IFireAndForget>();

        // The pump is not started: the first call fills the one-call buffer and the second is dropped.
        await jobs.EnqueueAsync("note:archive", """{"note_id":1}"""u8.ToArray());
        await jobs.EnqueueAsync("note:archive", """{"note_id":2}"""u8.ToArray());
        var text = await sut.RenderAsync(CancellationToken.None);

        Assert.Contains("# TYPE job_fire_and_forget_dropped_total counter\n", text, StringComparison.Ordinal);
        // No server serves queue low, so the queue label is (other): a made-up queue must not add series.
        Assert.Contains("job_fire_and_forget_dropped_total{task_type=\"note:archive\",queue=\"(other)\",reason=\"buffer_full\"} 1\n", text, StringComparison.Ordinal);
    }

    // An outside run: a fresh server's histograms had no series until their first observation, which rate() and
    // increase() then missed, so the dashboard's duration panels read NaN for job types that had run.
    [Fact]
    public async Task RenderAsync_TheHistogramsOfTheServedTypesAndQueues_StartEmpty_AndCountFromTheFirstObservation()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddConveyor().UseInMemoryStore();
        await using var provider = services.BuildServiceProvider();
        var metrics = provider.GetRequiredService<Conveyor.Diagnostics.ConveyorMetrics>();
        using var sut = new PrometheusExporter(provider.GetRequiredService<IMeterFactory>(), metrics);

        metrics.StartAtZero(["test:echo"], ["default"]);
        var before = await sut.RenderAsync(CancellationToken.None);
        var tags = metrics.JobStarted("test:echo", "default");
        metrics.JobProcessed(tags, "success", TimeSpan.FromMilliseconds(20));
        var after = await sut.RenderAsync(CancellationToken.None);

        Assert.Contains("job_duration_seconds_count{task_type=\"test:echo\",queue=\"default\"} 0\n", before, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_bucket{task_type=\"test:echo\",queue=\"default\",le=\"+Inf\"} 0\n", before, StringComparison.Ordinal);
        Assert.Contains("job_queue_wait_seconds_count{queue=\"default\"} 0\n", before, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_count{task_type=\"test:echo\",queue=\"default\"} 1\n", after, StringComparison.Ordinal);
        Assert.Single(after.Split('\n'), static l => l.StartsWith("job_duration_seconds_count{", StringComparison.Ordinal));
    }
}
