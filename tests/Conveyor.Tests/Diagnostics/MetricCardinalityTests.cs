using System.Diagnostics.Metrics;
using Conveyor.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Conveyor.Tests.Diagnostics;

/// <summary>Label values from job types are bounded: a flood of distinct types cannot grow the series without limit.</summary>
public sealed class MetricCardinalityTests
{
    [Fact]
    public async Task AFloodOf10000DistinctJobTypes_GrowsTheSeriesTo_MaxJobTypesPlusOther_AndLosesNoCount()
    {
        var services = new ServiceCollection();
        services.AddConveyor().UseInMemoryStore().AddHandler("mail:send", (_, _) => Task.CompletedTask);
        await using var provider = services.BuildServiceProvider();
        var metrics = provider.GetRequiredService<ConveyorMetrics>();
        using var enqueued = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, "job_enqueued_total");
        var client = provider.GetRequiredService<IJobClient>();
        var max = new ConveyorMetricsOptions().MaxJobTypes;

        // A worker server labels the types it handles first, at its start.
        metrics.StartAtZero(["mail:send"], ["default"]);
        for (var batch = 0; batch < 10; batch++)
        {
            var jobs = Enumerable.Range(batch * 1000, 1000).Select(i => client.CreateJob($"flood:type-{i}", "{}"u8.ToArray())).ToList();
            await client.EnqueueManyAsync(jobs);
        }

        await client.EnqueueAsync("mail:send", "{}"u8.ToArray());

        var measurements = enqueued.GetMeasurementSnapshot();
        var labels = measurements.Select(m => (string)m.Tags["task_type"]!).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(max + 1, labels.Count);
        Assert.Contains(BoundedLabels.OtherJobTypes, labels);
        Assert.Contains("mail:send", labels);
        Assert.Equal(10_001, measurements.Sum(m => m.Value));
        Assert.Equal(10_000 - (max - 1), measurements.Where(m => (string)m.Tags["task_type"]! == BoundedLabels.OtherJobTypes).Sum(m => m.Value));
    }

    [Fact]
    public async Task SchedulesPastMaxSchedules_AreCountedUnderOther_AndLoseNoCount()
    {
        var services = new ServiceCollection();
        services.AddConveyor(o => o.Metrics.MaxSchedules = 10).UseInMemoryStore();
        await using var provider = services.BuildServiceProvider();
        var metrics = provider.GetRequiredService<ConveyorMetrics>();
        using var fires = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, "schedule_fires_total");
        using var misfires = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, "schedule_misfires_total");

        for (var i = 0; i < 100; i++)
        {
            metrics.ScheduleStartAtZero($"tenant-made-{i}", "once", skipsOverlaps: true);
            metrics.ScheduleFired($"tenant-made-{i}");
            metrics.ScheduleMisfired($"tenant-made-{i}", "once", 2);
        }

        var fired = fires.GetMeasurementSnapshot();
        Assert.Equal(11, fired.Select(m => (string)m.Tags["schedule"]!).ToHashSet(StringComparer.Ordinal).Count);
        Assert.Equal(90, fired.Where(m => (string)m.Tags["schedule"]! == BoundedLabels.OtherSchedules).Sum(m => m.Value));
        Assert.Equal(100, fired.Sum(m => m.Value));
        Assert.Equal(200, misfires.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(11, misfires.GetMeasurementSnapshot().Select(m => (string)m.Tags["schedule"]!).ToHashSet(StringComparer.Ordinal).Count);
    }

    [Fact]
    public void BoundedLabels_KeepTheFirstValues_AndLabelTheRestOther()
    {
        var labels = new BoundedLabels(2, BoundedLabels.OtherJobTypes);

        Assert.Equal(["a:1", "b:1", "other", "a:1", "other"], new[] { "a:1", "b:1", "c:1", "a:1", "d:1" }.Select(labels.Of).ToArray());
    }
}
