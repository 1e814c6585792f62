using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Conveyor.Tests.Server;

/// <summary>How the server starts (store first, metrics at zero) and stops (shutdown signal, cut-short grace, honest counts).</summary>
public sealed class ShutdownAndStartTests
{
    [Fact]
    public async Task ShutdownRequested_IsSignalledWhenTheGraceBegins_SoALongHandlerCanCheckpointAndFinish()
    {
        var checkpointed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var harness = await ServerHarness.StartAsync(
            o => o.ShutdownTimeout = TimeSpan.FromMinutes(5),
            c => c.AddHandler("test:checkpoint", async (context, cancellationToken) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.ShutdownRequested);
                }
                catch (OperationCanceledException)
                {
                    // Save the work done so far, then return: the attempt succeeds.
                    checkpointed.TrySetResult(cancellationToken.IsCancellationRequested);
                }
            }));
        var result = await harness.Client.EnqueueAsync("test:checkpoint", "{}"u8.ToArray());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await harness.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(await checkpointed.Task, "the handler's own token was cancelled before the grace ended");
        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Succeeded, job!.State);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task HandlerThatStopsOnShutdownRequested_HandsItsJobBack_WithoutCountingTheAttempt()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var harness = await ServerHarness.StartAsync(
            o => o.ShutdownTimeout = TimeSpan.FromMinutes(5),
            c => c.AddHandler("test:checkpoint", async (context, _) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.ShutdownRequested);
            }));
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var processed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_processed_total");
        var result = await harness.Client.EnqueueAsync("test:checkpoint", "{}"u8.ToArray());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await harness.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Pending, job!.State);
        Assert.Equal(0, job.Attempts);
        Assert.Equal(["released"], processed.GetMeasurementSnapshot().Where(m => m.Value > 0).Select(m => (string)m.Tags["status"]!).ToArray());
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task GraceCutShort_CancelsRunningHandlersAtOnce_AndReturnsTheirJobsWithoutCountingTheAttempt()
    {
        var harness = await ServerHarness.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));
        var result = await harness.Client.EnqueueAsync(new SlowJob(600_000));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId), because: "the handler to start");

        var stopping = harness.StopAsync();
        harness.Server.CutGracePeriodShort();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        var job = await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Pending, job!.State);
        Assert.Equal(0, job.Attempts);
        Assert.Contains(result.JobId, harness.Recorder.Cancelled);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task ShutdownRelease_AndUserCancel_AreCountedAsReleasedAndCancelled_NotAsFailed()
    {
        var harness = await ServerHarness.StartAsync(o =>
        {
            // A lease long enough that a loaded machine renews it in time: one lost would count the attempt lease_lost.
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
            o.LeaseDuration = TimeSpan.FromSeconds(5);
        });
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var processed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_processed_total");
        var cancelled = await harness.Client.EnqueueAsync(new SlowJob(600_000));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == cancelled.JobId), because: "the handler to start");
        await harness.Store.CancelAsync(TenantId.Default, cancelled.JobId, CancellationToken.None);
        await harness.WaitForStateAsync(cancelled.JobId, JobState.Cancelled);
        var released = await harness.Client.EnqueueAsync(new SlowJob(600_000));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == released.JobId), because: "the handler to start");

        await harness.StopAsync();

        var counted = processed.GetMeasurementSnapshot().Where(m => m.Value > 0).Select(m => (string)m.Tags["status"]!).Order().ToArray();
        Assert.Equal(["cancelled", "released"], counted);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task Counters_ExistAtZeroFromStart_ForEveryHandledTypeAndServedQueue()
    {
        var harness = await ServerHarness.StartAsync(start: false);
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var recoveries = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_lease_recoveries_total");
        using var processed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_processed_total");
        using var retries = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_retries_total");
        using var enqueued = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_enqueued_total");

        await harness.StartHostAsync();

        Assert.Equal(["critical", "default", "low"], recoveries.GetMeasurementSnapshot().Where(m => m.Value == 0).Select(m => (string)m.Tags["queue"]!).Distinct().Order().ToArray());
        Assert.Equal(["cancelled", "failed", "requeued"], recoveries.GetMeasurementSnapshot().Where(m => m.Value == 0).Select(m => (string)m.Tags["outcome"]!).Distinct().Order().ToArray());
        foreach (var status in new[] { "success", "failed", "cancelled", "released", "snoozed", "lease_lost" })
        {
            Assert.Contains(processed.GetMeasurementSnapshot(), m => m.Value == 0 && (string?)m.Tags["task_type"] == "test:echo" && (string?)m.Tags["queue"] == "low" && (string?)m.Tags["status"] == status);
        }

        Assert.Contains(retries.GetMeasurementSnapshot(), m => m.Value == 0 && (string?)m.Tags["task_type"] == "test:flaky" && (string?)m.Tags["queue"] == "critical");
        Assert.Contains(enqueued.GetMeasurementSnapshot(), m => m.Value == 0 && (string?)m.Tags["task_type"] == "test:slow" && (string?)m.Tags["queue"] == "default");
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task Start_WithAStoreThatCannotBeOpened_StopsAfterStoreStartTimeout_SayingWhy()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        control.Available = false;
        var harness = await ServerHarness.StartAsync(o => o.StoreStartTimeout = TimeSpan.FromMilliseconds(300), store: store, start: false);

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(harness.StartHostAsync);

        Assert.Contains("Conveyor:Server:StoreStartTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("the test store is down", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:Server:StartWithoutStore", error.Message, StringComparison.Ordinal);
        await harness.DisposeAsync();
    }

    /// <summary>
    /// A try to open the store that takes longer than the whole timeout but succeeds (a long migration, or servers
    /// waiting for it behind its lock) starts the server: the timeout bounds the retries, not one try. Cutting the try
    /// short at the timeout failed every start of a store whose migration outlasted it, so its schema could never be
    /// brought up to date.
    /// </summary>
    [Theory]
    [InlineData(300)]
    [InlineData(0)]
    public async Task Start_WithAStoreWhoseOpenOutlastsStoreStartTimeout_Starts(int timeoutMs)
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        control.InitializationDelay = TimeSpan.FromMilliseconds(1000);
        await using var harness = await ServerHarness.StartAsync(o => o.StoreStartTimeout = TimeSpan.FromMilliseconds(timeoutMs), store: store, start: false);

        await harness.StartHostAsync();

        Assert.Equal(1, control.Initializations);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Start_WithAStoreThatFailsForGood_StopsAtOnce_WithoutWaitingOutTheTimeout(bool startWithoutStore)
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        control.Available = false;
        control.Failure = static () => new InvalidDataException("the file is not a database");
        var harness = await ServerHarness.StartAsync(
            o =>
            {
                o.StoreStartTimeout = TimeSpan.FromSeconds(2);
                o.StartWithoutStore = startWithoutStore;
            },
            store: store,
            start: false);

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(harness.StartHostAsync);

        Assert.Contains("store cannot be opened: the file is not a database", error.Message, StringComparison.Ordinal);

        // The start tried once; the metrics' background read of the server registry is not the start's.
        Assert.Equal(1, control.FailedCalls - control.FailedServerListings);
        await harness.DisposeAsync();
    }
}
