using System.Diagnostics.Metrics;
using System.Text;
using Conveyor.Client.FireAndForget;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Client;

/// <summary>
/// <see cref="IFireAndForget"/>: the call returns without waiting for the store and never throws for what the store
/// does; the pump stores calls in batches; whatever is not stored is logged with its job type and reason and counted.
/// No assertion depends on how long anything takes: tests hold the store at a gate and wait on conditions.
/// </summary>
public sealed class FireAndForgetTests : IAsyncDisposable
{
    private readonly List<Sut> _suts = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var sut in _suts)
        {
            sut.Store.Failure = null;
            sut.Store.Release();
            await sut.Pump.StopAsync(CancellationToken.None);
            sut.Dropped.Dispose();
            await sut.Services.DisposeAsync();
        }
    }

    private sealed record Sut(
        ServiceProvider Services,
        IFireAndForget Jobs,
        GatedStore Store,
        InMemoryJobStore Inner,
        FireAndForgetPump Pump,
        FakeLogCollector Logs,
        MetricCollector<long> Dropped)
    {
        public async Task<IReadOnlyList<JobInfo>> StoredJobsAsync() =>
            (await Inner.ListAsync(new JobQuery { Tenant = TenantId.Default, Limit = JobQuery.MaxLimit }, CancellationToken.None)).Jobs;

        public long DroppedCount(string reason) =>
            Dropped.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], reason)).Sum(m => m.Value);
    }

    private async Task<Sut> CreateSutAsync(Action<FireAndForgetOptions>? configure = null, TimeProvider? time = null, bool start = true)
    {
        time ??= TimeProvider.System;
        var inner = new InMemoryJobStore(time);
        var (store, control) = GatedStore.Wrap(inner);
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddFakeLogging();
        services.AddSingleton(store);
        services.AddConveyor(o => o.MaxPayloadBytes = 1024).AddHandler<EchoHandler>().AddFireAndForget(configure);
        var provider = services.BuildServiceProvider();
        var sut = new Sut(
            provider,
            provider.GetRequiredService<IFireAndForget>(),
            control,
            inner,
            provider.GetRequiredService<FireAndForgetPump>(),
            provider.GetFakeLogCollector(),
            new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, "job_fire_and_forget_dropped_total"));
        _suts.Add(sut);
        if (start)
        {
            await sut.Pump.StartAsync(CancellationToken.None);
        }

        return sut;
    }

    [Fact]
    public async Task EnqueueAsync_WhileTheStoreDoesNotAnswer_ReturnsACompletedTask_AndTheJobIsStoredOnceItAnswers()
    {
        var sut = await CreateSutAsync();
        sut.Store.Block();

        var call = sut.Jobs.EnqueueAsync(new EchoJob("first"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1, because: "the pump is inside the store, which does not answer");
        var second = sut.Jobs.EnqueueAsync(new EchoJob("second"));

        Assert.True(call.IsCompletedSuccessfully);
        Assert.True(second.IsCompletedSuccessfully);
        Assert.Empty(await sut.StoredJobsAsync());

        sut.Store.Release();
        await Eventually.HoldsAsync(async () => (await sut.StoredJobsAsync()).Count == 2);
        Assert.Equal(
            ["""{"text":"first"}""", """{"text":"second"}"""],
            (await sut.StoredJobsAsync()).Select(j => Encoding.UTF8.GetString(j.Payload.Span)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task EnqueueAsync_WithoutAQueue_GoesToTheLowQueue_AndTheJobIsAnOrdinaryJob()
    {
        var sut = await CreateSutAsync();

        await sut.Jobs.EnqueueAsync(new EchoJob("x"));

        await Eventually.HoldsAsync(async () => (await sut.StoredJobsAsync()).Count == 1);
        var job = Assert.Single(await sut.StoredJobsAsync());
        Assert.Equal(QueueName.Low, job.Queue);
        Assert.Equal(EchoJob.JobType, job.Type);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(ConveyorOptions.DefaultMaxRetryValue, job.MaxRetry);
        Assert.Matches("^job_[0-9a-f]{32}$", job.Id);
    }

    [Fact]
    public async Task EnqueueAsync_WithOptions_TheirQueueWins_OtherwiseTheConfiguredQueue_AndTheOtherOptionsApply()
    {
        var sut = await CreateSutAsync(o => o.Queue = "background");

        await sut.Jobs.EnqueueAsync(new EchoJob("critical"), new JobOptions { Queue = QueueName.Critical });
        await sut.Jobs.EnqueueAsync(new EchoJob("configured"), new JobOptions { MaxRetry = 2, JobId = "echo-configured" });
        await sut.Jobs.EnqueueAsync(EchoJob.JobType, """{"text":"raw"}"""u8.ToArray(), new JobOptions { Tenant = "acme", JobId = "echo-raw" });

        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs == 3);
        var jobs = await sut.StoredJobsAsync();
        Assert.Equal(QueueName.Critical, Assert.Single(jobs, j => j.Id != "echo-configured").Queue);
        var configured = Assert.Single(jobs, j => j.Id == "echo-configured");
        Assert.Equal("background", configured.Queue);
        Assert.Equal(2, configured.MaxRetry);
        var raw = await sut.Inner.GetAsync("acme", "echo-raw", CancellationToken.None);
        Assert.Equal("background", raw!.Queue);
    }

    [Fact]
    public async Task EnqueueAsync_ProcessIn_CountsFromTheCall_NotFromWhenThePumpStoresIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var sut = await CreateSutAsync(time: time, start: false);
        var calledAt = time.GetUtcNow();

        await sut.Jobs.EnqueueAsync(new EchoJob("later"), new JobOptions { ProcessIn = TimeSpan.FromMinutes(10), JobId = "later" });
        time.Advance(TimeSpan.FromMinutes(3));
        await sut.Pump.StartAsync(CancellationToken.None);

        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs == 1);
        var job = await sut.Inner.GetAsync(TenantId.Default, "later", CancellationToken.None);
        Assert.Equal(JobState.Scheduled, job!.State);
        Assert.Equal(calledAt + TimeSpan.FromMinutes(10), job.ScheduledAt);
    }

    [Fact]
    public async Task ManyCalls_WhileARoundTripIsInFlight_AreStoredInFewRoundTrips()
    {
        var sut = await CreateSutAsync(o => o.MaxBatchSize = 256);
        sut.Store.Block();
        await sut.Jobs.EnqueueAsync(new EchoJob("0"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1);

        for (var i = 1; i < 1000; i++)
        {
            await sut.Jobs.EnqueueAsync(new EchoJob(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        sut.Store.Release();
        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs == 1000);

        // The first call's round trip, then 999 calls in batches of at most 256: 1 + 4.
        Assert.Equal(5, sut.Store.EnqueueManyCalls);
        Assert.Equal(1000, (await sut.Inner.GetQueueStatsAsync(CancellationToken.None)).Single(q => q.Queue == QueueName.Low).Pending);
        Assert.Equal(0, sut.Dropped.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task AStoreThatStaysDown_DoesNotThrowIntoTheCaller_IsTriedUntilItIsBack_AndTheJobIsStoredOnce_DroppingNothing()
    {
        var sut = await CreateSutAsync(o => o.EnqueueTimeout = TimeSpan.FromMilliseconds(10));
        sut.Store.Failure = static () => new JobStoreUnavailableException("the test store is down");

        var call = sut.Jobs.EnqueueAsync(new EchoJob("kept"));

        Assert.True(call.IsCompletedSuccessfully);
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls >= 3, because: "the pump tries again past the enqueue timeout");
        var warning = Assert.Single(sut.Logs.GetSnapshot(), r => r.Id.Id == 133);
        Assert.Contains("trying a batch of 1 jobs again until it is stored", warning.Message, StringComparison.Ordinal);
        Assert.IsType<JobStoreUnavailableException>(warning.Exception);
        Assert.Empty(await sut.StoredJobsAsync());

        sut.Store.Failure = null;

        await Eventually.HoldsAsync(() => sut.Logs.GetSnapshot().Any(r => r.Id.Id == 135));
        var job = Assert.Single(await sut.StoredJobsAsync());
        Assert.Equal("""{"text":"kept"}""", Encoding.UTF8.GetString(job.Payload.Span));
        Assert.Contains("0 of them were there already", sut.Logs.GetSnapshot().Single(r => r.Id.Id == 135).Message, StringComparison.Ordinal);
        Assert.Empty(sut.Dropped.GetMeasurementSnapshot());
        Assert.DoesNotContain(sut.Logs.GetSnapshot(), r => r.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task AStoreThatComesBackWithinTheBound_StoresTheBatchOnce()
    {
        var sut = await CreateSutAsync(o => o.EnqueueTimeout = TimeSpan.FromMinutes(1));
        sut.Store.Failure = static () => new JobStoreUnavailableException("the test store is down");

        await sut.Jobs.EnqueueAsync(new EchoJob("retried"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls >= 2, because: "the pump retries a store that is down");
        sut.Store.Failure = null;

        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs == 1);
        Assert.Single(await sut.StoredJobsAsync());
        Assert.Empty(sut.Dropped.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task AStoreThatRefusesTheBatch_IsNotRetried_AndTheJobsAreDroppedAsError()
    {
        var sut = await CreateSutAsync();
        sut.Store.Failure = static () => new InvalidOperationException("refused");

        await sut.Jobs.EnqueueAsync(new EchoJob("refused"));

        await Eventually.HoldsAsync(() => sut.DroppedCount(FireAndForgetDropReason.Error) == 1);
        Assert.Equal(1, sut.Store.EnqueueManyCalls);
        Assert.IsType<InvalidOperationException>(Assert.Single(sut.Logs.GetSnapshot(), r => r.Level == LogLevel.Error).Exception);
    }

    [Fact]
    public async Task AStoreThatRefusesABatchForOneJob_StoresTheOthersAlone_AndDropsOnlyThatOne()
    {
        var sut = await CreateSutAsync();
        sut.Store.Refuses = static job => Encoding.UTF8.GetString(job.Payload.Span).Contains("refused", StringComparison.Ordinal);
        sut.Store.Block();
        await sut.Jobs.EnqueueAsync(new EchoJob("first"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1, because: "the first job is in the store, which holds it");

        // These three wait for the held round trip and go together in the next one, which the store refuses.
        await sut.Jobs.EnqueueAsync(new EchoJob("before"));
        await sut.Jobs.EnqueueAsync(new EchoJob("refused"));
        await sut.Jobs.EnqueueAsync(new EchoJob("after"));
        sut.Store.Release();

        await Eventually.HoldsAsync(() => sut.DroppedCount(FireAndForgetDropReason.Error) == 1);
        await Eventually.HoldsAsync(async () => (await sut.StoredJobsAsync()).Count == 3);
        Assert.Equal(
            ["""{"text":"after"}""", """{"text":"before"}""", """{"text":"first"}"""],
            (await sut.StoredJobsAsync()).Select(j => Encoding.UTF8.GetString(j.Payload.Span)).Order(StringComparer.Ordinal));
        Assert.True(sut.Store.EnqueueManyCalls >= 3, "the refused round trip was followed by one per job");
    }

    [Fact]
    public async Task ARoundTripThatDoesNotAnswer_IsTriedAgainWithTheSameIds_SoAJobTheStoreFinishesLateIsStoredOnce()
    {
        var sut = await CreateSutAsync(o => o.EnqueueTimeout = TimeSpan.FromMilliseconds(10));
        sut.Store.Block();

        await sut.Jobs.EnqueueAsync(new EchoJob("late"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls >= 2, because: "the first round trip timed out and a second was sent");

        // The store wakes and finishes every round trip it held, the abandoned ones included.
        var held = sut.Store.EnqueueManyCalls;
        sut.Store.Release();

        await Eventually.HoldsAsync(() => sut.Logs.GetSnapshot().Any(r => r.Id.Id == 135));
        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs >= held, because: "every held round trip reached the store");
        var job = Assert.Single(await sut.StoredJobsAsync());
        Assert.Equal("""{"text":"late"}""", Encoding.UTF8.GetString(job.Payload.Span));
        Assert.Empty(sut.Dropped.GetMeasurementSnapshot());
        Assert.Contains(sut.Logs.GetSnapshot(), r => r.Id.Id == 133 && r.Exception is TimeoutException);

        // The pump is free again.
        await sut.Jobs.EnqueueAsync(new EchoJob("next"));
        await Eventually.HoldsAsync(async () => (await sut.StoredJobsAsync()).Count == 2);
    }

    [Fact]
    public async Task ABatchTheStoreIsAlwaysTooSlowFor_IsStoredInHalves_AndHoldsNothingBehindItForGood()
    {
        var sut = await CreateSutAsync(o => o.EnqueueTimeout = TimeSpan.FromMilliseconds(50));
        // A store that stores one job at once and never stores more within the bound (cancelled, it stores nothing).
        sut.Store.Slowness = static jobs => jobs.Count > 1 ? TimeSpan.FromMinutes(5) : null;
        sut.Store.Block();
        await sut.Jobs.EnqueueAsync(new EchoJob("first"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1, because: "the first job is in the store, which holds it");
        for (var i = 0; i < 4; i++)
        {
            await sut.Jobs.EnqueueAsync(new EchoJob($"behind {i}"));
        }

        sut.Store.Release();

        await Eventually.HoldsAsync(async () => (await sut.StoredJobsAsync()).Count == 5);
        await sut.Jobs.EnqueueAsync(new EchoJob("after"));
        await Eventually.HoldsAsync(async () => (await sut.StoredJobsAsync()).Count == 6);
        Assert.Empty(sut.Dropped.GetMeasurementSnapshot());
        Assert.Contains(sut.Logs.GetSnapshot(), r => r.Id.Id == 136 && r.Message.Contains("a batch of 4 jobs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFullBuffer_WithDrop_DropsTheNewCallAtOnce_LogsAndCountsIt()
    {
        var sut = await CreateSutAsync(o => o.BufferCapacity = 2);
        sut.Store.Block();
        await sut.Jobs.EnqueueAsync(new EchoJob("in flight"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1);
        await sut.Jobs.EnqueueAsync(new EchoJob("buffered 1"));
        await sut.Jobs.EnqueueAsync(new EchoJob("buffered 2"));

        var dropped = sut.Jobs.EnqueueAsync(new EchoJob("dropped"));

        Assert.True(dropped.IsCompletedSuccessfully);
        Assert.Equal(1, sut.DroppedCount(FireAndForgetDropReason.BufferFull));
        sut.Store.Release();
        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs == 3);
        await Eventually.HoldsAsync(() => sut.Logs.GetSnapshot().Any(r => r.Level == LogLevel.Warning));
        var record = Assert.Single(sut.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Contains("1 jobs of type test:echo for queue low were dropped (buffer_full)", record.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:FireAndForget:BufferCapacity 2", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFullBuffer_WithWait_TheCallCompletesWhenThereIsRoom_AndNothingIsDropped()
    {
        var sut = await CreateSutAsync(o =>
        {
            o.BufferCapacity = 1;
            o.FullMode = FireAndForgetFullMode.Wait;
            o.FullWaitTimeout = TimeSpan.FromMinutes(1);
        });
        sut.Store.Block();
        await sut.Jobs.EnqueueAsync(new EchoJob("in flight"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1);
        await sut.Jobs.EnqueueAsync(new EchoJob("buffered"));

        var waiting = sut.Jobs.EnqueueAsync(new EchoJob("waiting")).AsTask();

        Assert.False(waiting.IsCompleted);
        sut.Store.Release();
        await waiting;
        await Eventually.HoldsAsync(() => sut.Store.EnqueuedJobs == 3);
        Assert.Empty(sut.Dropped.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task AFullBuffer_WithWait_DropsTheCallWhenTheWaitBoundPasses_OrWhenTheCallerCancels()
    {
        var time = new FakeTimeProvider();
        var sut = await CreateSutAsync(
            o =>
            {
                o.BufferCapacity = 1;
                o.FullMode = FireAndForgetFullMode.Wait;
                o.FullWaitTimeout = TimeSpan.FromSeconds(2);
            },
            time);
        sut.Store.Block();
        await sut.Jobs.EnqueueAsync(new EchoJob("in flight"));
        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1);
        await sut.Jobs.EnqueueAsync(new EchoJob("buffered"));
        using var cancel = new CancellationTokenSource();

        var cancelled = sut.Jobs.EnqueueAsync(new EchoJob("cancelled"), cancellationToken: cancel.Token).AsTask();
        Assert.False(cancelled.IsCompleted);
        await cancel.CancelAsync();
        await cancelled;
        var timesOut = sut.Jobs.EnqueueAsync(new EchoJob("times out")).AsTask();
        Assert.False(timesOut.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        await timesOut;

        Assert.Equal(1, sut.DroppedCount(FireAndForgetDropReason.BufferFull));
        Assert.Equal(1, sut.DroppedCount(FireAndForgetDropReason.Cancelled));
    }

    [Fact]
    public async Task Shutdown_StoresWhatIsBuffered_ThenDropsLaterCallsAsShutdown()
    {
        var sut = await CreateSutAsync(o => o.MaxBatchSize = 10);
        sut.Store.Block();
        for (var i = 0; i < 50; i++)
        {
            await sut.Jobs.EnqueueAsync(new EchoJob("before stop"));
        }

        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1);
        var stop = sut.Pump.StopAsync(CancellationToken.None);
        Assert.False(stop.IsCompleted);
        sut.Store.Release();
        await stop;

        Assert.Equal(50, sut.Store.EnqueuedJobs);
        Assert.Equal(50, (await sut.StoredJobsAsync()).Count);

        var late = sut.Jobs.EnqueueAsync(new EchoJob("after stop"));
        Assert.True(late.IsCompletedSuccessfully);
        Assert.Equal(1, sut.DroppedCount(FireAndForgetDropReason.Shutdown));
        Assert.Contains(sut.Logs.GetSnapshot(), r => r.Message.Contains("dropped (shutdown)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shutdown_WithAStoreThatNeverAnswers_EndsAtTheBound_AndLogsAndCountsWhatWasNotStored()
    {
        var sut = await CreateSutAsync(o =>
        {
            o.MaxBatchSize = 10;
            o.EnqueueTimeout = TimeSpan.FromMinutes(5);
            o.ShutdownTimeout = TimeSpan.Zero;
        });
        sut.Store.Block();
        for (var i = 0; i < 25; i++)
        {
            await sut.Jobs.EnqueueAsync(new EchoJob("stranded"));
        }

        await Eventually.HoldsAsync(() => sut.Store.EnqueueManyCalls == 1);
        await sut.Pump.StopAsync(CancellationToken.None);

        Assert.Equal(25, sut.DroppedCount(FireAndForgetDropReason.Shutdown));
        Assert.Equal(0, sut.Store.EnqueuedJobs);
        var lines = sut.Logs.GetSnapshot().Where(r => r.Message.Contains("(shutdown)", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, r => Assert.Contains("Conveyor:FireAndForget:ShutdownTimeout", r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shutdown_WithoutAStart_StillStoresWhatWasBuffered()
    {
        var sut = await CreateSutAsync(start: false);
        await sut.Jobs.EnqueueAsync(new EchoJob("never started"));

        await sut.Pump.StopAsync(CancellationToken.None);

        Assert.Equal(1, sut.Store.EnqueuedJobs);
    }

    [Fact]
    public async Task InvalidCalls_ThrowAtTheCall_AndBufferNothing()
    {
        var sut = await CreateSutAsync(start: false);

        Assert.Throws<ArgumentNullException>(() => { _ = sut.Jobs.EnqueueAsync<EchoJob>(null!); });
        var tooBig = Assert.Throws<ArgumentException>(() => { _ = sut.Jobs.EnqueueAsync(new EchoJob(new string('x', 2000))); });
        Assert.Contains("Conveyor:MaxPayloadBytes", tooBig.Message, StringComparison.Ordinal);
        var badOption = Assert.Throws<ArgumentException>(() => { _ = sut.Jobs.EnqueueAsync(new EchoJob("x"), new JobOptions { MaxRetry = -1 }); });
        Assert.Contains("JobOptions.MaxRetry", badOption.Message, StringComparison.Ordinal);
        var badQueue = Assert.Throws<ArgumentException>(() => { _ = sut.Jobs.EnqueueAsync(new EchoJob("x"), new JobOptions { Queue = "no spaces" }); });
        Assert.Contains("JobOptions.Queue", badQueue.Message, StringComparison.Ordinal);
        var badPayload = Assert.Throws<ArgumentException>(() => { _ = sut.Jobs.EnqueueAsync(EchoJob.JobType, """{"txt":"typo"}"""u8.ToArray()); });
        Assert.Contains("$.txt", badPayload.Message, StringComparison.Ordinal);
        var badType = Assert.Throws<ArgumentException>(() => { _ = sut.Jobs.EnqueueAsync("not a type", "{}"u8.ToArray()); });
        Assert.Contains("not a type", badType.Message, StringComparison.Ordinal);

        await sut.Pump.StopAsync(CancellationToken.None);
        Assert.Equal(0, sut.Store.EnqueueManyCalls);
        Assert.Empty(sut.Dropped.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task AStoredJob_IsAnOrdinaryJob_RetriedAndCountedByTheWorker_AndItsFailuresNeverReachTheCaller()
    {
        await using var server = await ServerHarness.StartAsync(configureConveyor: c => c.AddFireAndForget());
        using var processed = new MetricCollector<long>(server.Services.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, "job_processed_total");
        var jobs = server.Services.GetRequiredService<IFireAndForget>();

        await jobs.EnqueueAsync(new FlakyJob(FailTimes: 1), new JobOptions { JobId = "flaky-once" });
        await jobs.EnqueueAsync(new FlakyJob(FailTimes: 5, SkipRetry: true), new JobOptions { JobId = "skip-retry" });

        var retried = await server.WaitForStateAsync("flaky-once", JobState.Succeeded);
        var failed = await server.WaitForStateAsync("skip-retry", JobState.Failed);
        Assert.Equal(2, retried.Attempts);
        Assert.Equal(QueueName.Low, retried.Queue);
        Assert.Equal(1, failed.Attempts);
        await Eventually.HoldsAsync(() => processed.GetMeasurementSnapshot().Count(m => Equals(m.Tags["task_type"], FlakyJob.JobType)) == 3);
        var statuses = processed.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags["task_type"], FlakyJob.JobType) && Equals(m.Tags["queue"], QueueName.Low))
            .Select(m => (string)m.Tags["status"]!)
            .Order(StringComparer.Ordinal);
        Assert.Equal(["failed", "failed", "success"], statuses);
    }
}
