using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

public sealed class JobServerFaultTests
{
    [Fact]
    public async Task StoreDown_ServerBacksOff_AndProcessesJobsOnceItIsBack()
    {
        var inner = new InMemoryJobStore();
        var (store, control) = UnreliableStore.Wrap(inner);
        control.Available = false;
        await using var harness = await ServerHarness.StartAsync(o => o.StartWithoutStore = true, store: store);

        await Eventually.HoldsAsync(() => Volatile.Read(ref control.FailedCalls) >= 3, because: "the server to keep trying");
        control.Available = true;
        var result = await harness.Client.EnqueueAsync(new EchoJob("after the outage"));

        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
    }

    [Fact]
    public async Task StoreDownAtStart_StartedWithoutIt_OpensTheStoreOnceItIsBack()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        control.Available = false;
        await using var harness = await ServerHarness.StartAsync(o => o.StartWithoutStore = true, store: store);
        await Eventually.HoldsAsync(() => Volatile.Read(ref control.FailedCalls) >= 3, because: "the server to keep trying");
        Assert.Equal(0, Volatile.Read(ref control.Initializations));

        control.Available = true;

        // Its schema created (a new database) and its listeners started, without a restart of the process.
        await Eventually.HoldsAsync(() => Volatile.Read(ref control.Initializations) == 1, because: "the store to be opened once it answers");
    }

    [Fact]
    public async Task StoreDownAtStart_TheFirstHeartbeatIsTheOutageWarning_NotAnError()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        control.Available = false;
        var logs = new FakeLogCollector();
        await using var harness = await ServerHarness.StartAsync(
            o => o.StartWithoutStore = true, store: store, configureServices: s => s.AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs)));

        static bool FromHeartbeat(FakeLogRecord r) => r.Message.Contains("Server heartbeat", StringComparison.Ordinal);
        await Eventually.HoldsAsync(() => logs.GetSnapshot().Any(FromHeartbeat), because: "the first heartbeat to meet the outage");

        var record = Assert.Single(logs.GetSnapshot(), FromHeartbeat);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.IsType<JobStoreUnavailableException>(record.Exception);
    }

    [Fact]
    public async Task StoreBack_FetcherBackingOff_WakesAtTheFirstSuccessfulEnqueueOfItsProcess()
    {
        // Time stands still: the fetcher's backoff never runs out, so only the wake-up can bring it back.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore(time));
        control.Available = false;
        await using var harness = await ServerHarness.StartAsync(o => o.StartWithoutStore = true, store: store, configureServices: s => s.AddSingleton<TimeProvider>(time));
        await Eventually.HoldsAsync(() => Volatile.Read(ref control.FailedDequeues) >= 1, because: "the fetcher to fail and back off");

        control.Available = true;
        var result = await harness.Client.EnqueueAsync(new EchoJob("the store is back"));

        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
    }

    [Fact]
    public async Task StoreDownDuringEnqueue_ReachesTheCallerAsAnException()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        await using var harness = await ServerHarness.StartAsync(store: store);
        control.Available = false;

        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => harness.Client.EnqueueAsync(new EchoJob("lost?")));
    }

    [Fact]
    public async Task StoreDownDuringAProgressReport_LosesTheReport_NotTheAttempt()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        await using var harness = await ServerHarness.StartAsync(store: store, configureConveyor: c => c.AddHandler("test:progress", async (context, cancellationToken) =>
        {
            control.Available = false;
            try
            {
                await context.ReportProgressAsync(50, cancellationToken);
            }
            finally
            {
                control.Available = true;
            }
        }));

        var result = await harness.Client.EnqueueAsync("test:progress", "{}"u8.ToArray());

        var job = await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
        Assert.Equal(1, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.True(Volatile.Read(ref control.FailedCalls) >= 1);
    }

    [Fact]
    public async Task StoreDownWhileAStepIsStored_StoresItOnceTheStoreIsBack_WithoutCostingTheAttempt()
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        var runs = 0;
        await using var harness = await ServerHarness.StartAsync(store: store, configureConveyor: c => c.AddHandler("test:step", async (context, cancellationToken) =>
            await context.RunStepAsync("publish", _ =>
            {
                Interlocked.Increment(ref runs);
                control.Available = false;
                return ValueTask.CompletedTask;
            })));

        var result = await harness.Client.EnqueueAsync("test:step", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0 });
        await Eventually.HoldsAsync(() => Volatile.Read(ref control.FailedStepSaves) >= 2, because: "the step's result to be stored again while the store is away");
        control.Available = true;

        var job = await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
        Assert.Equal((1, 1), (job.Attempts, Volatile.Read(ref runs)));
        Assert.Empty(job.Errors);
        Assert.Equal("publish", Assert.Single((await store.GetStepsAsync(TenantId.Default, result.JobId, CancellationToken.None))!).Name);
    }

    [Fact]
    public async Task AStepTheStoreRefusesWhileItTakesTheLeasesRenewals_FailsTheAttemptWithinALease_NotNever()
    {
        var (store, _) = FailingStepStore.Wrap(new InMemoryJobStore(), "publish", failures: int.MaxValue);
        await using var harness = await ServerHarness.StartAsync(store: store, configureConveyor: c => c.AddHandler("test:step", async (context, cancellationToken) =>
            await context.RunStepAsync("publish", _ => ValueTask.CompletedTask)));

        var result = await harness.Client.EnqueueAsync("test:step", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0 });

        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);
        Assert.Equal(1, job.Attempts);
        Assert.Contains("the test store is down", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobOfAWorkerThatDied_IsRecoveredAfterItsLeaseExpires_AndRunsAgain()
    {
        var store = new InMemoryJobStore();
        await using var harness = await ServerHarness.StartAsync(store: store, start: false);
        var enqueued = await harness.Client.EnqueueAsync(new EchoJob("orphan"));

        // A worker that leased the job and then died: it never extends the lease and never acknowledges.
        var leased = await store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(QueueName.Default, 1)],
            Limit = 1,
            ServerId = "dead-worker",
            LeaseDuration = TimeSpan.FromMilliseconds(300),
        }, CancellationToken.None);
        Assert.Single(leased);
        await harness.StartHostAsync();

        var job = await harness.WaitForStateAsync(enqueued.JobId, JobState.Succeeded);
        Assert.Equal(2, job.Attempts);
        Assert.Contains("lease", Assert.Single(job.Errors).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ExceptionInAMiddleware_FailsTheAttempt_AndTheWorkerKeepsRunning()
    {
        await using var harness = await ServerHarness.StartAsync(
            configureConveyor: c => c.UseMiddleware<ThrowingMiddleware>(),
            configureServices: s => s.AddSingleton(new ThrowingMiddleware.Switch { Throw = true }));

        var failed = await harness.Client.EnqueueAsync(new EchoJob("x"), new JobOptions { MaxRetry = 0 });
        await harness.WaitForStateAsync(failed.JobId, JobState.Failed);
        harness.Services.GetRequiredService<ThrowingMiddleware.Switch>().Throw = false;

        var next = await harness.Client.EnqueueAsync(new EchoJob("y"));
        await harness.WaitForStateAsync(next.JobId, JobState.Succeeded);
    }

    internal sealed class ThrowingMiddleware(ThrowingMiddleware.Switch state) : IJobMiddleware
    {
        public ValueTask InvokeAsync(JobContext context, JobDelegate next) =>
            state.Throw ? throw new InvalidOperationException("middleware bug") : next(context);

        internal sealed class Switch
        {
            public volatile bool Throw;
        }
    }
}
