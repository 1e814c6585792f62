using System.Net;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.AspNetCore.Tests;

/// <summary>What callers and scrapers see while the store is down or hangs: no 500, and none of the client's internals.</summary>
public sealed class StoreOutageTests
{
    // What StackExchange.Redis puts in its exception text: none of it is for the API's callers.
    private const string ClientDiagnostics = "Timeout performing GET (5000ms), IOCP: (Busy=0,Free=1000,Min=2,Max=1000), WORKER: (Busy=3,Free=32764,Min=2,Max=32767), clientName: worker-7 (Please take a look at this article for some common client-side issues: https://stackexchange.github.io/StackExchange.Redis/Timeouts)";

    [Fact]
    public async Task Api_WhenTheStoreHangs_AnswersServiceUnavailable_AtTheStoreTimeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = SwitchableStore.Over(new InMemoryJobStore(time));
        proxy.HangLookupsUntilCancelled = true;
        await using var app = await StartOnAsync(time, proxy);

        var get = app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");
        await proxy.LookupRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(ConveyorApiOptions.DefaultStoreTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(proxy.LookupCancelled.Task.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        using var response = await get.WaitAsync(TimeSpan.FromSeconds(10));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("did not answer within 10 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Idempotency-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(proxy.LookupCancelled.Task.IsCompleted);
        using var metrics = await app.SendAsync(HttpMethod.Get, "/metrics");
        Assert.Contains("job_store_unavailable_total{operation=\"api\"} 1\n", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    // A read never stored anything: telling its caller (the dashboard, every two seconds of an outage) to repeat a create
    // with its Idempotency-Key only confuses; a create is told.
    [Fact]
    public async Task StoreDown_AReadIsAnsweredWithoutTheCreateAdvice_ACreateWithIt()
    {
        var store = SwitchableStore.Create(new InMemoryJobStore(TimeProvider.System));
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(store)));
        ((SwitchableStore)(object)store).Down = true;

        using var read = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");
        using var create = await app.PostJobAsync("""{"type": "test:noop"}""");

        var readProblem = await ProblemAssert.IsProblemAsync(read, HttpStatusCode.ServiceUnavailable);
        var createProblem = await ProblemAssert.IsProblemAsync(create, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("could not serve the request", readProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Idempotency-Key", readProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Idempotency-Key", createProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WhenTheStoreReportsItsCancelledCallAsUnavailable_AnswersTheStoreTimeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = SwitchableStore.Over(new InMemoryJobStore(time));
        proxy.HangLookupsUntilCancelled = true;
        proxy.CancelledAsUnavailable = true;
        await using var app = await StartOnAsync(time, proxy);

        var get = app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");
        await proxy.LookupRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(ConveyorApiOptions.DefaultStoreTimeout);
        using var response = await get.WaitAsync(TimeSpan.FromSeconds(10));

        // A store whose client turns a cancelled call into its own fault (as a store does for a timeout it wraps) still
        // gets the timeout's answer, not a fault's.
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("did not answer within 10 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WhenTheClientGoesAway_TheStoreCallIsCancelledAtOnce_BeforeTheStoreTimeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = SwitchableStore.Over(new InMemoryJobStore(time));
        proxy.HangLookupsUntilCancelled = true;
        await using var app = await StartOnAsync(time, proxy);
        using var gone = new CancellationTokenSource();

        var get = app.Client.GetAsync("/jobs/job_00000000000000000000000000000000", gone.Token);
        await proxy.LookupRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await gone.CancelAsync();

        await proxy.LookupCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => get);
    }

    [Fact]
    public async Task Create_WhenTheStoreHangsIgnoringItsToken_AnswersServiceUnavailable_AndStoresOnlyWhatWasHandedToIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var inner = new InMemoryJobStore(time);
        var proxy = SwitchableStore.Over(inner);
        proxy.HoldEnqueues = true;
        await using var app = await StartOnAsync(time, proxy, new Dictionary<string, string?> { ["StoreTimeout"] = "00:00:03" });

        // Whatever fails below, the held call ends, so that the app's batcher can stop.
        await using var release = new AsyncRelease(proxy.ReleaseEnqueues);

        // The first create's batch is in the store's hands; two more wait behind it for the next batch.
        var held = app.PostJobAsync("""{"type": "test:noop"}""", idempotencyKey: "held-create");
        await proxy.EnqueueRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = new[] { app.PostJobAsync("""{"type": "test:noop", "payload": {"n": 1}}"""), app.PostJobAsync("""{"type": "test:noop", "payload": {"n": 2}}""") };
        var batcher = app.Services.GetRequiredService<Conveyor.AspNetCore.JobsApi.EnqueueBatcher>();
        await WaitUntilAsync(() => batcher.Waiting == 2);
        time.Advance(TimeSpan.FromSeconds(3));

        foreach (var post in queued.Prepend(held))
        {
            using var response = await post.WaitAsync(TimeSpan.FromSeconds(10));
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("did not answer within 3 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("Idempotency-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // The store answers late: the job it was handed is stored, and the create repeated with its key finds it; the two
        // that waited behind it were never handed to the store, so their callers' retries make no second job.
        proxy.HoldEnqueues = false;
        proxy.ReleaseEnqueues.TrySetResult();
        await WaitUntilAsync(() => batcher.Waiting == 0);
        using var again = await app.PostJobAsync("""{"type": "test:noop"}""", idempotencyKey: "held-create");
        Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
        await WaitUntilAsync(() => batcher.Waiting == 0);
        var jobs = await inner.ListAsync(new JobQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Single(jobs.Jobs);
    }

    [Fact]
    public async Task Create_WithABodySlowerThanTheStoreTimeout_IsStored_NotAnsweredAsAStoreTimeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var content = new SlowContent("{\"type\": \"test:noop\", "u8.ToArray(), "\"payload\": {\"n\": 1}}"u8.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = content };
        var post = app.Client.SendAsync(request);
        await content.FirstPartSent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(ConveyorApiOptions.DefaultStoreTimeout + TimeSpan.FromSeconds(1));
        content.SendTheRest.TrySetResult();
        using var response = await post.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task ApiWithoutWorkers_OpensTheStoreAtStart()
    {
        var proxy = SwitchableStore.Over(new InMemoryJobStore());

        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>((IJobStore)(object)proxy)));

        // Its migrations applied and its listeners started by the API process itself, not left to a worker process.
        await proxy.Initialized.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, proxy.Initializations);
    }

    [Fact]
    public async Task ApiWithWorkers_LeavesTheOpeningToTheJobServer()
    {
        var proxy = SwitchableStore.Over(new InMemoryJobStore());

        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>((IJobStore)(object)proxy)));
        await app.Services.GetServices<IHostedService>().OfType<Conveyor.Client.ClientStoreOpener>().Single().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));

        // The job server opened it in its start, which the host awaited; the API's opener, done, had nothing to do.
        Assert.True(proxy.Initialized.Task.IsCompleted);
        Assert.Equal(1, proxy.Initializations);
    }

    [Fact]
    public async Task ApiWithoutWorkers_StoreThatWaitingCannotHeal_StopsTheApplication_WithExitCode1()
    {
        var proxy = SwitchableStore.Over(new InMemoryJobStore());
        proxy.CannotBeOpened = true;
        var exitCode = Environment.ExitCode;
        try
        {
            await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>((IJobStore)(object)proxy)));
            var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            await WaitUntilAsync(() => stopping.IsCancellationRequested);

            // Once, not again at every backoff: it stops instead of answering 503 "try again shortly" for good.
            var opener = app.Services.GetServices<IHostedService>().OfType<Conveyor.Client.ClientStoreOpener>().Single();
            Assert.Equal("The switchable store cannot be opened: a Redis Cluster has database 0 only.", opener.StoppedBecause);
            Assert.Equal(1, proxy.Initializations);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
    }

    [Fact]
    public async Task ApiWithoutWorkers_StoreDownAtStart_StartsAnyway_AndOpensTheStoreWhenItComesBack()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = SwitchableStore.Over(new InMemoryJobStore(time));
        proxy.Down = true;
        await using var app = await StartOnAsync(time, proxy);
        await WaitUntilAsync(() => proxy.Initializations >= 1);

        using var down = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");
        await ProblemAssert.IsProblemAsync(down, HttpStatusCode.ServiceUnavailable);

        // The opener tries again after each backoff, whose timer may not be set yet when the clock moves: move it until it fires.
        await WaitUntilAsync(() =>
        {
            time.Advance(Conveyor.Server.Backoff.Max);
            return proxy.Initializations >= 2;
        });
        proxy.Down = false;
        await WaitUntilAsync(() =>
        {
            time.Advance(Conveyor.Server.Backoff.Max);
            return proxy.Initialized.Task.IsCompleted;
        });
    }

    /// <summary>An app on <paramref name="time"/> whose store is <paramref name="store"/>.</summary>
    private static Task<TestApp> StartOnAsync(FakeTimeProvider time, SwitchableStore store, IDictionary<string, string?>? apiSettings = null) =>
        TestApp.StartAsync(apiSettings, services: s =>
        {
            s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time));
            s.Replace(ServiceDescriptor.Singleton<IJobStore>((IJobStore)(object)store));
        });

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 10 s");
            await Task.Delay(5);
        }
    }

    private sealed class AsyncRelease(TaskCompletionSource release) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            release.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A JSON body sent in two parts, the second when the test says.</summary>
    private sealed class SlowContent(byte[] first, byte[] rest) : HttpContent
    {
        public TaskCompletionSource FirstPartSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SendTheRest { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            FirstPartSent.TrySetResult();
            await SendTheRest.Task;
            await stream.WriteAsync(rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = first.Length + rest.Length;
            return true;
        }
    }

    [Fact]
    public async Task Metrics_DuringAStoreOutage_ServeEveryInProcessSeries_AndLeaveOutTheStoreGauges()
    {
        var store = SwitchableStore.Create(new InMemoryJobStore(TimeProvider.System));
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(store)));
        var jobId = await app.CreateAsync();
        await app.WaitForStatusAsync(jobId, null, "SUCCESS");
        await WaitForMetricAsync(app, "job_processed_total{task_type=\"test:noop\",queue=\"default\",status=\"success\"} 1");

        ((SwitchableStore)(object)store).Down = true;
        // The gauges' cache lasts a second (TestApp); the first read after it sees the outage.
        await WaitForMetricAsync(app, "job_store_up 0\n");
        using var response = await app.SendAsync(HttpMethod.Get, "/metrics");

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("job_processed_total{task_type=\"test:noop\",queue=\"default\",status=\"success\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("job_enqueued_total{task_type=\"test:noop\",queue=\"default\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("job_store_up 0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("job_queue_size{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_WhenTheStoreHangs_AnswerAfterTheBoundedWait_WithoutTheStoreGauges()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = SwitchableStore.Over(new InMemoryJobStore(time));
        proxy.Hang = true;
        await using var app = await StartOnAsync(time, proxy);

        var scrape = app.SendAsync(HttpMethod.Get, "/metrics");
        await proxy.QueueStatsRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(scrape.IsCompleted);
        time.Advance(new ConveyorMetricsOptions().StoreTimeout);
        using var response = await scrape.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("job_store_up 0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("job_queue_size{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_AScrapeThatGivesUpOnAHungRead_AnswersStoreUpZero_WithoutThePreviousReadsGauges()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = SwitchableStore.Over(new InMemoryJobStore(time));
        await using var app = await StartOnAsync(time, proxy);
        await app.CreateAsync();
        using (var before = await app.SendAsync(HttpMethod.Get, "/metrics"))
        {
            var figures = await before.Content.ReadAsStringAsync();
            Assert.Contains("job_store_up 1\n", figures, StringComparison.Ordinal);
            Assert.Contains("job_queue_size{", figures, StringComparison.Ordinal);
        }

        // The next read's store call blocks before it hands back its (never answered) task, as a frozen server's client
        // may: the read's own bound then starts after the scrape's wait, which ends with the read still in flight.
        using var handOver = new ManualResetEventSlim();
        proxy.HandOverQueueStats = handOver;
        try
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var scrape = app.SendAsync(HttpMethod.Get, "/metrics");
            await proxy.QueueStatsRequested.Task.WaitAsync(TimeSpan.FromSeconds(10));
            time.Advance(new ConveyorMetricsOptions().StoreTimeout);
            using var response = await scrape.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("job_store_up 0\n", text, StringComparison.Ordinal);
            Assert.DoesNotContain("job_queue_size{", text, StringComparison.Ordinal);
        }
        finally
        {
            handOver.Set();
        }
    }

    [Fact]
    public async Task Metrics_WhenTheStoreAnswers_SayItIsUp()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/metrics");

        Assert.Contains("job_store_up 1\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_WhileTheStoreRefusesWrites_CountTheApisServiceUnavailableAnswers_ThoughTheStoreIsUp()
    {
        var proxy = SwitchableStore.Over(new InMemoryJobStore(TimeProvider.System));
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>((IJobStore)(object)proxy)));
        using (var before = await app.SendAsync(HttpMethod.Get, "/metrics"))
        {
            Assert.Contains("job_store_unavailable_total{operation=\"api\"} 0\n", await before.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        proxy.RefuseWrites = true;
        using var post = await app.PostJobAsync("""{"type": "test:noop"}""");
        await ProblemAssert.IsProblemAsync(post, HttpStatusCode.ServiceUnavailable);
        using var response = await app.SendAsync(HttpMethod.Get, "/metrics");

        // The reads behind job_store_up still answer: only the new counter tells the store refuses the API's writes.
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("job_store_up 1\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE job_store_unavailable_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("job_store_unavailable_total{operation=\"api\"} 1\n", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// A 503 tells whether the create may have been stored: an outside run repeated creates refused by a Redis short of
    /// replicas, which the body said "may have been stored", and the store can tell when nothing was.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServiceUnavailable_ForACreate_SaysWhetherItMayHaveBeenStored(bool nothingWritten)
    {
        var proxy = SwitchableStore.Over(new InMemoryJobStore(TimeProvider.System));
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>((IJobStore)(object)proxy)));
        proxy.RefuseWrites = true;
        proxy.RefusedBeforeWriting = nothingWritten;

        using var post = await app.PostJobAsync("""{"type": "test:noop"}""");

        var problem = await ProblemAssert.IsProblemAsync(post, HttpStatusCode.ServiceUnavailable);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Equal(nothingWritten, detail.Contains("before storing anything", StringComparison.Ordinal));
        Assert.Equal(!nothingWritten, detail.Contains("may have been stored", StringComparison.Ordinal));
        Assert.Equal("1", post.Headers.RetryAfter?.ToString());
    }

    [Fact]
    public async Task ServiceUnavailableBodies_DoNotCarryTheStoreClientsDiagnostics()
    {
        var store = SwitchableStore.Create(new InMemoryJobStore(TimeProvider.System));
        ((SwitchableStore)(object)store).Down = true;
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(store)));

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");
        using var get = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");
        using var post = await app.PostJobAsync("""{"type": "test:noop"}""");

        foreach (var response in new[] { ready, get, post })
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            var text = problem.GetRawText();
            Assert.DoesNotContain("IOCP", text, StringComparison.Ordinal);
            Assert.DoesNotContain("clientName", text, StringComparison.Ordinal);
            Assert.DoesNotContain("stackexchange.github.io", text, StringComparison.Ordinal);
            Assert.Contains("switchable", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    private static async Task WaitForMetricAsync(TestApp app, string line)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var response = await app.SendAsync(HttpMethod.Get, "/metrics");
            var text = await response.Content.ReadAsStringAsync();
            if (text.Contains(line, StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, text);
            await Task.Delay(20);
        }
    }

    /// <summary>A store that forwards to another until it is told to fail (as a store does when its server is gone) or to hang.</summary>
    public class SwitchableStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public volatile bool Down;

        /// <summary>Opening the store fails with what waiting cannot heal (a setting the store refuses).</summary>
        public volatile bool CannotBeOpened;

        public volatile bool Hang;

        /// <summary>Enqueues fail as unavailable while every other call answers: Redis at maxmemory with noeviction.</summary>
        public volatile bool RefuseWrites;

        /// <summary>With <see cref="RefuseWrites"/>: the store says it refused before writing anything.</summary>
        public volatile bool RefusedBeforeWriting;

        /// <summary>Job lookups (the readiness probe's) never answer and ignore their token.</summary>
        public volatile bool HangLookups;

        public TaskCompletionSource QueueStatsRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When set, a statistics read blocks until it is signalled, then hands back a task that never completes.</summary>
        public volatile ManualResetEventSlim? HandOverQueueStats;

        /// <summary>Job lookups wait until their token is cancelled, as a client does for a server that does not answer.</summary>
        public volatile bool HangLookupsUntilCancelled;

        public TaskCompletionSource LookupRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource LookupCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>A lookup ended by its token throws <see cref="JobStoreUnavailableException"/> rather than OperationCanceledException.</summary>
        public volatile bool CancelledAsUnavailable;

        /// <summary>Enqueues wait for <see cref="ReleaseEnqueues"/> and ignore their token, then store the jobs.</summary>
        public volatile bool HoldEnqueues;

        public TaskCompletionSource EnqueueRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseEnqueues { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Calls of <see cref="IJobStore.InitializeAsync"/>, failed ones included.</summary>
        public int Initializations => Volatile.Read(ref _initializations);

        public TaskCompletionSource Initialized { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int _initializations;

        public static SwitchableStore Over(IJobStore inner) => (SwitchableStore)(object)Create(inner);

        public static IJobStore Create(IJobStore inner)
        {
            var store = Create<IJobStore, SwitchableStore>();
            ((SwitchableStore)(object)store)._inner = inner;
            return store;
        }

        private async Task<JobInfo?> WaitForCancellationAsync(CancellationToken cancellationToken)
        {
            LookupRequested.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return null;
            }
            catch (OperationCanceledException) when (CancelledAsUnavailable)
            {
                throw new JobStoreUnavailableException("switchable: the call was cancelled");
            }
            finally
            {
                LookupCancelled.TrySetResult();
            }
        }

        private async Task<IReadOnlyList<EnqueueResult>> EnqueueWhenReleasedAsync(IReadOnlyList<NewJob> jobs)
        {
            EnqueueRequested.TrySetResult();
            await ReleaseEnqueues.Task;
            return await _inner.EnqueueManyAsync(jobs, CancellationToken.None);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == "get_Name")
            {
                return "switchable";
            }

            if (targetMethod.Name == nameof(IJobStore.GetQueueStatsAsync) && HandOverQueueStats is { } handOver)
            {
                QueueStatsRequested.TrySetResult();
                Assert.True(handOver.Wait(TimeSpan.FromSeconds(30)), "the test never let the read hand over its task");
                return new ValueTask<IReadOnlyList<QueueStats>>(new TaskCompletionSource<IReadOnlyList<QueueStats>>().Task);
            }

            if (targetMethod.Name == nameof(IJobStore.GetQueueStatsAsync) && Hang)
            {
                QueueStatsRequested.TrySetResult();
                // Ignores its token, as a client stuck on a dead socket may.
                return new ValueTask<IReadOnlyList<QueueStats>>(new TaskCompletionSource<IReadOnlyList<QueueStats>>().Task);
            }

            if (targetMethod.Name == nameof(IJobStore.GetAsync) && HangLookupsUntilCancelled)
            {
                return new ValueTask<JobInfo?>(WaitForCancellationAsync((CancellationToken)args![^1]!));
            }

            if (targetMethod.Name == nameof(IJobStore.EnqueueManyAsync) && RefuseWrites)
            {
                throw new JobStoreUnavailableException("redis: OOM command not allowed when used memory > 'maxmemory'.") { NothingWritten = RefusedBeforeWriting };
            }

            if (targetMethod.Name == nameof(IJobStore.EnqueueManyAsync) && HoldEnqueues)
            {
                return new ValueTask<IReadOnlyList<EnqueueResult>>(EnqueueWhenReleasedAsync((IReadOnlyList<NewJob>)args![0]!));
            }

            if (targetMethod.Name == nameof(IJobStore.GetAsync) && HangLookups)
            {
                return new ValueTask<JobInfo?>(new TaskCompletionSource<JobInfo?>().Task);
            }

            if (targetMethod.Name == nameof(IJobStore.InitializeAsync))
            {
                Interlocked.Increment(ref _initializations);
                if (CannotBeOpened)
                {
                    return ValueTask.FromException(new InvalidOperationException("a Redis Cluster has database 0 only."));
                }

                if (!Down)
                {
                    Initialized.TrySetResult();
                }
            }

            if (Down)
            {
                throw new JobStoreUnavailableException("redis: " + ClientDiagnostics);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e)
            {
                ExceptionDispatchInfo.Throw(e.InnerException!);
                throw;
            }
        }
    }
}
