using System.Threading.RateLimiting;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// Rate limits through a running server (a job over the limit is snoozed until its turn, no attempt counted, the
/// reason on the job) and through <see cref="IConveyorRateLimiters"/> for code that is not a job.
/// </summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task AJobOverTheLimit_IsSnoozedUntilItsTurn_WithTheReasonAndNoAttemptCounted()
    {
        await using var harness = await ServerHarness.StartAsync(
            configureServices: s => s.Configure<ConveyorOptions>(o =>
                o.Limits.Rate["echo"] = new() { Queue = QueueName.Default, JobType = EchoJob.JobType, Limit = 1, Period = TimeSpan.FromHours(1) }));

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await harness.Client.EnqueueAsync(new EchoJob($"hello {i}"))).JobId);
        }

        var jobs = new List<JobInfo>();
        await Eventually.HoldsAsync(async () =>
        {
            jobs = [.. await Task.WhenAll(ids.Select(async id => (await harness.Store.GetAsync(TenantId.Default, id, CancellationToken.None))!))];
            return jobs.Count(static j => j.State == JobState.Succeeded) == 1 && jobs.Count(static j => j.State == JobState.Scheduled) == 2;
        }, because: "one job starts, the two others wait for their turn");

        Assert.All(jobs.Where(static j => j.State == JobState.Scheduled), static j =>
        {
            Assert.Equal(0, j.Attempts);
            Assert.StartsWith("Rate limit 'echo' reached", j.SnoozeReason, StringComparison.Ordinal);
        });
        Assert.Single(harness.Recorder.Started);
    }

    /// <summary>
    /// A limit on a whole queue paces the server: after the first refused start it leases that queue's jobs only at the
    /// limit's turns, so the backlog waits queued in its order (the refused jobs go back to the head of the queue, never
    /// to SCHEDULED) and few jobs are handed back. Snoozing every refused job until the store's next turn, as for a limit
    /// on one job type, brought them all back at that turn to be refused again, all but one: a limit of 10 a second
    /// started one job per promotion.
    /// </summary>
    [Fact]
    public async Task ALimitOnAWholeQueue_PacesItsBacklog_InOrder_WithoutSnoozingIt()
    {
        await using var harness = await ServerHarness.StartAsync(
            configureServices: s => s.Configure<ConveyorOptions>(o =>
                o.Limits.Rate["queue"] = new() { Queue = QueueName.Default, Limit = 10, Period = TimeSpan.FromSeconds(1) }),
            start: false);
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var handedBack = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_snoozed_total");
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add((await harness.Client.EnqueueAsync(new EchoJob($"hello {i}"))).JobId);
        }

        await harness.StartHostAsync();
        var everScheduled = false;
        await Eventually.HoldsAsync(async () =>
        {
            var jobs = await Task.WhenAll(ids.Select(async id => (await harness.Store.GetAsync(TenantId.Default, id, CancellationToken.None))!));
            everScheduled |= jobs.Any(static j => j.State == JobState.Scheduled);
            return jobs.All(static j => j.State == JobState.Succeeded);
        }, because: "the backlog runs at the limit's rate");

        Assert.False(everScheduled);
        Assert.Equal(ids, harness.Recorder.Started.Select(static s => s.JobId));
        Assert.All(harness.Recorder.Started, static s => Assert.Equal(1, s.Attempt));
        // The first dequeue's jobs but one, and a few turns taken by a lease just before its permit's time.
        var handBacks = handedBack.GetMeasurementSnapshot().Sum(static m => m.Value);
        Assert.True(handBacks < 2 * ids.Count, $"{handBacks} jobs handed back for {ids.Count} started");
    }

    /// <summary>
    /// A limit on one job type cannot hold its queue back (the queue's other jobs must run), so its refused jobs are
    /// snoozed: each to a turn of its own, one interval after the one before, in the order they were leased. Snoozed to
    /// the store's next turn, they all came back together and all but one were refused again: a limit of 20 a second
    /// started one job a second and handed back 45 for 10.
    /// </summary>
    [Fact]
    public async Task ALimitOnOneJobType_SnoozesItsBacklogToTurnsOfItsOwn_OneIntervalApart_InOrder()
    {
        await using var harness = await ServerHarness.StartAsync(
            configureServices: s => s.Configure<ConveyorOptions>(o =>
                o.Limits.Rate["echo"] = new() { Queue = QueueName.Default, JobType = EchoJob.JobType, Limit = 10, Period = TimeSpan.FromHours(1) }),
            configureServer: o => o.Concurrency = 8,
            start: false);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await harness.Client.EnqueueAsync(new EchoJob($"hello {i}"))).JobId);
        }

        await harness.StartHostAsync();
        var jobs = new List<JobInfo>();
        await Eventually.HoldsAsync(async () =>
        {
            jobs = [.. await Task.WhenAll(ids.Select(async id => (await harness.Store.GetAsync(TenantId.Default, id, CancellationToken.None))!))];
            return jobs.Count(static j => j.State == JobState.Succeeded) == 1 && jobs.Count(static j => j.State == JobState.Scheduled) == 4;
        }, because: "one job starts, the four others wait for turns of their own");

        var turns = jobs.Where(static j => j.State == JobState.Scheduled).Select(static j => j.ScheduledAt!.Value).ToList();
        Assert.Equal(turns.Order(), turns);
        Assert.All(turns.Zip(turns.Skip(1)), static pair => Assert.Equal(TimeSpan.FromMinutes(6), pair.Second - pair.First));
        Assert.Single(harness.Recorder.Started);
    }

    [Theory]
    [InlineData("removed")]
    [InlineData("raised")]
    public async Task ALimitOnOneJobType_RemovedOrRaised_StartsTheJobsItSnoozed_WithoutWaitingForTheirTurns(string change)
    {
        var store = new InMemoryJobStore();
        var slow = new LimitRecord { Kind = LimitKind.Rate, Name = "echo", Queue = QueueName.Default, JobType = EchoJob.JobType, Limit = 1, Period = TimeSpan.FromHours(1), Burst = 1, Source = LimitSource.Api };
        await store.PutLimitAsync(slow, CancellationToken.None);
        await using var harness = await ServerHarness.StartAsync(
            configureServices: s => s.Configure<ConveyorOptions>(o => o.Limits.RefreshInterval = TimeSpan.FromSeconds(1)),
            configureServer: o => o.Concurrency = 4,
            store: store,
            start: false);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await harness.Client.EnqueueAsync(new EchoJob($"hello {i}"))).JobId);
        }

        await harness.StartHostAsync();
        await Eventually.HoldsAsync(async () =>
        {
            var jobs = await Task.WhenAll(ids.Select(async id => (await store.GetAsync(TenantId.Default, id, CancellationToken.None))!));
            return jobs.Count(static j => j.State == JobState.Succeeded) == 1 && jobs.Count(static j => j.State == JobState.Scheduled) == 3;
        }, because: "one job starts, the three others wait for turns an hour apart");

        if (change == "removed")
        {
            Assert.True(await store.DeleteLimitAsync(LimitKind.Rate, "echo", CancellationToken.None));
        }
        else
        {
            await store.PutLimitAsync(slow with { Limit = 1000, Period = TimeSpan.FromSeconds(1), Burst = 10 }, CancellationToken.None);
        }

        foreach (var id in ids)
        {
            var job = await harness.WaitForStateAsync(id, JobState.Succeeded);
            Assert.Equal(1, job.Attempts);
        }

        Assert.Equal(4, harness.Recorder.Started.Count);
    }

    [Fact]
    public async Task ALimiterOfYourOwn_GrantsItsRateAndSaysWhenToComeBack()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var limiters = Limiters(new InMemoryJobStore(time), time);
        using var limiter = limiters.Create("partner-api", limit: 2, period: TimeSpan.FromSeconds(1), burst: 2);

        using var first = await limiter.AcquireAsync();
        using var second = await limiter.AcquireAsync();
        using var third = await limiter.AcquireAsync();

        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(third.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(500), retryAfter);
        Assert.Throws<NotSupportedException>(() => limiter.AttemptAcquire());
        Assert.Equal(2, limiter.GetStatistics()!.TotalSuccessfulLeases);
    }

    [Fact]
    public async Task ALimiterWithAMaxWait_WaitsForItsTurn()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var limiter = Limiters(new InMemoryJobStore(time), time).Create("partner-api", limit: 1, period: TimeSpan.FromSeconds(1), maxWait: TimeSpan.FromSeconds(2));
        using var first = await limiter.AcquireAsync();

        var second = limiter.AcquireAsync().AsTask();
        Assert.False(second.IsCompleted);
        await Eventually.HoldsAsync(() => { time.Advance(TimeSpan.FromMilliseconds(100)); return second.IsCompleted; });

        Assert.True((await second).IsAcquired);
    }

    [Fact]
    public async Task AConfiguredLimit_IsTheSameLimiterAsItsJobs_PerTenant()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new InMemoryJobStore(time);
        var limiters = Limiters(store, time, new RateLimit { Queue = "partner", Partition = LimitPartition.Tenant, Limit = 1, Period = TimeSpan.FromMinutes(1) });

        using var acme = await limiters.Get("partner-api", "acme").AcquireAsync();
        var acmeAgain = (await store.TryAcquireRatePermitsAsync([Conveyor.Limits.RateLimitRules.ToRule("partner-api", new RateLimit { Queue = "partner", Partition = LimitPartition.Tenant, Limit = 1, Period = TimeSpan.FromMinutes(1) }).Request("acme")], CancellationToken.None))[0];
        using var globex = await limiters.Get("partner-api", "globex").AcquireAsync();

        Assert.True(acme.IsAcquired);
        Assert.False(acmeAgain.Acquired);
        Assert.True(globex.IsAcquired);
        Assert.Throws<ArgumentException>(() => limiters.Get("partner-api"));
        Assert.Throws<ArgumentException>(() => limiters.Get("unknown"));
    }

    private static IConveyorRateLimiters Limiters(IJobStore store, TimeProvider time, RateLimit? configured = null)
    {
        var options = new ConveyorOptions();
        if (configured is not null)
        {
            options.Limits.Rate["partner-api"] = configured;
        }

        return new ConveyorRateLimiters(store, new Conveyor.Limits.LimitsInForce(Options.Create(options)), time);
    }
}
