using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Server;

/// <summary>A job whose type this server has no handler for waits for a server that has one, unless told to fail.</summary>
public sealed class UnknownJobTypeTests
{
    [Fact]
    public async Task UnknownJobType_IsSnoozedByDefault_NoAttemptCountedNoErrorReasonOnTheJobWarningAndMetric()
    {
        await using var harness = await ServerHarness.StartAsync(configureServices: s => s.AddFakeLogging());
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var snoozed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_snoozed_total");
        using var processed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_processed_total");
        using var queueWait = new MetricCollector<double>(meterFactory, ConveyorMetrics.MeterName, "job_queue_wait_seconds");

        var result = await harness.Client.EnqueueAsync("nobody:handles", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0, Queue = QueueName.Low });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Scheduled);

        Assert.Equal(0, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Contains("'nobody:handles'", job.SnoozeReason, StringComparison.Ordinal);
        Assert.True(job.ScheduledAt >= job.CreatedAt + new JobServerOptions().UnknownJobTypeDelay, $"due {job.ScheduledAt:O}, created {job.CreatedAt:O}");
        var measurement = Assert.Single(snoozed.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("nobody:handles", measurement.Tags["task_type"]);
        Assert.Equal(QueueName.Low, measurement.Tags["queue"]);
        Assert.Equal(UnknownJobTypeSnooze.MetricReason, measurement.Tags["reason"]);
        Assert.Empty(processed.GetMeasurementSnapshot());
        Assert.Empty(queueWait.GetMeasurementSnapshot()); // handed back, not started: its wait goes on
        var warning = Assert.Single(harness.Services.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains("No handler for job type", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("nobody:handles", warning.Message, StringComparison.Ordinal);
        Assert.Contains(result.JobId, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownJobType_WithUnknownJobTypesFail_FailsAtOnceWithAnErrorNamingTheType()
    {
        await using var harness = await ServerHarness.StartAsync(o => o.UnknownJobTypes = UnknownJobTypeAction.Fail);

        var result = await harness.Client.EnqueueAsync("nobody:handles", "{}"u8.ToArray(), new JobOptions { MaxRetry = 5 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Equal(1, job.Attempts);
        var error = Assert.Single(job.Errors);
        Assert.Contains("'nobody:handles'", error.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(UnknownJobTypeException).FullName, error.ExceptionType);
        Assert.Null(job.SnoozeReason);
    }

    [Fact]
    public async Task UnknownJobType_WhoseDeadlineComesBeforeTheNextOffer_FailsNamingTheTypeAndTheDeadline()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync("nobody:handles", "{}"u8.ToArray(), new JobOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(20) });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        var error = Assert.Single(job.Errors);
        Assert.Contains("'nobody:handles'", error.Message, StringComparison.Ordinal);
        Assert.Contains("deadline", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnoozedUnknownJobType_IsRunByAServerThatHandlesIt()
    {
        var store = new InMemoryJobStore(TimeProvider.System);
        string jobId;
        await using (var withoutHandler = await ServerHarness.StartAsync(o => o.UnknownJobTypeDelay = TimeSpan.FromSeconds(1), store: store))
        {
            jobId = (await withoutHandler.Client.EnqueueAsync("remote:work", "{}"u8.ToArray())).JobId;
            await withoutHandler.WaitForStateAsync(jobId, JobState.Scheduled);
        }

        await using var withHandler = await ServerHarness.StartAsync(
            store: store,
            configureConveyor: c => c.AddHandler("remote:work", (_, _) => Task.CompletedTask));
        var job = await withHandler.WaitForStateAsync(jobId, JobState.Succeeded);

        Assert.Equal(1, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Null(job.SnoozeReason);
    }

    [Theory]
    [InlineData(0, 30)]
    [InlineData(60, 30)]
    [InlineData(120, 30)]
    [InlineData(400, 100)]
    [InlineData(2400, 600)]
    [InlineData(86400, 600)]
    public void Delay_IsAQuarterOfTheWaitSoFar_BetweenTheFirstAndTheLongest(int waitedSeconds, int expectedSeconds)
    {
        var delay = UnknownJobTypeSnooze.Delay(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(waitedSeconds));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }
}
