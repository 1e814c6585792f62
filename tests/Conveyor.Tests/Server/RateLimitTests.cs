using System.Threading.RateLimiting;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
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
