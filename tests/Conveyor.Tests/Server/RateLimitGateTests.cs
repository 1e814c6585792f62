using System.Reflection;
using Conveyor.Limits;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// How the fetcher's gate takes rate permits: a lease of many permits in one store call while a limit is far from
/// being hit, a permit per job when the burst is small or the store refused a lease lately, and never more starts
/// than the limiter grants.
/// </summary>
public sealed class RateLimitGateTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ALimitFarFromBeingHit_ServesManyBatchesFromLeasesThatGrowWhileTheyAreSpent()
    {
        var (store, calls) = PermitCallCounter.Wrap(new InMemoryJobStore(_time));
        var gate = Gate(store, limit: 1_000_000, burst: 1_000_000);

        var batches = Enumerable.Range(0, 15).Select(_ => Batch(10)).ToArray();
        foreach (var batch in batches)
        {
            await gate.ApplyAsync(batch, CancellationToken.None);
        }

        Assert.All(batches.SelectMany(b => b), static run => Assert.Null(run.RateLimited));
        Assert.All(batches.SelectMany(b => b), static run => Assert.True(run.HoldsRatePermit));
        Assert.Equal([10, 20, 40, 80], calls.Permits);
    }

    [Fact]
    public async Task ALeaseNeverPassesItsLargestSize()
    {
        var (store, calls) = PermitCallCounter.Wrap(new InMemoryJobStore(_time));
        var gate = Gate(store, limit: 1_000_000, burst: 1_000_000);

        for (var i = 0; i < 300; i++)
        {
            await gate.ApplyAsync(Batch(10), CancellationToken.None);
        }

        Assert.Equal(RatePermitLeases.MaxSize, calls.Permits.Max());
    }

    [Fact]
    public async Task LeasedPermits_AreDroppedOnceTheirLifetimePasses_AndTheNextLeaseIsSmaller()
    {
        var (store, calls) = PermitCallCounter.Wrap(new InMemoryJobStore(_time));
        var gate = Gate(store, limit: 1_000_000, burst: 1_000_000);

        await gate.ApplyAsync(Batch(10), CancellationToken.None);
        await gate.ApplyAsync(Batch(10), CancellationToken.None);
        _time.Advance(RatePermitLeases.Lifetime);
        await gate.ApplyAsync(Batch(5), CancellationToken.None);

        Assert.Equal([10, 20, 10], calls.Permits);
    }

    [Fact]
    public void LeasesGrantedToTwoBatchesAtOnce_AddUp_AndARefusalKeepsWhatIsLeft()
    {
        var leases = new RatePermitLeases();
        var now = _time.GetUtcNow();

        leases.Granted("rate:bench", 100, 100, now);
        leases.Granted("rate:bench", 50, 50, now);
        leases.Refused("rate:bench", now);

        Assert.Equal(150, leases.TakeLeased("rate:bench", 1_000, now));
        Assert.Equal(0, leases.LeaseSize(Rule(1_000_000, 1_000_000), "rate:bench", 10, now));
    }

    [Theory]
    [InlineData(1_000, 3_600, 10)] // 1,000 an hour: too slow to lease at all
    [InlineData(600, 60, 1)] // 600 a minute: leases of at most 2
    [InlineData(1_000, 1, 0.05)] // 1,000 a second
    public async Task ATrickleOfJobs_LeavesTheBurstForTheBatchAfterIt(int limit, int periodSeconds, double secondsBetweenJobs)
    {
        var store = new InMemoryJobStore(_time);
        var gate = new RateLimitGate(store, [Rule(limit, burst: limit, period: TimeSpan.FromSeconds(periodSeconds))], _time);
        var trickle = TimeSpan.FromSeconds(secondsBetweenJobs);

        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(30); elapsed += trickle)
        {
            var job = Batch(1);
            await gate.ApplyAsync(job, CancellationToken.None);
            Assert.Null(job[0].RateLimited);
            _time.Advance(trickle);
        }

        var batch = Batch(limit / 2);
        await gate.ApplyAsync(batch, CancellationToken.None);
        Assert.All(batch, static run => Assert.Null(run.RateLimited));
    }

    [Fact]
    public async Task TheDefaultBurstOfOne_TakesAPermitPerJob_AndHoldsTheJobsOverTheLimit()
    {
        var (store, calls) = PermitCallCounter.Wrap(new InMemoryJobStore(_time));
        var gate = Gate(store, limit: 10, burst: 1);

        var batch = Batch(3);
        await gate.ApplyAsync(batch, CancellationToken.None);

        Assert.Equal([1, 1, 1], calls.Permits);
        Assert.Null(batch[0].RateLimited);
        Assert.All(batch[1..], run => Assert.StartsWith("Rate limit 'bench' reached", run.RateLimited!.Value.Reason, StringComparison.Ordinal));
        Assert.Equal([true, false, false], batch.Select(run => run.HoldsRatePermit));
    }

    [Fact]
    public async Task ARefusedLease_FallsBackToAPermitPerJob_UntilTheLimitHasBeenQuietForAWhile()
    {
        var inner = new InMemoryJobStore(_time);
        var (store, calls) = PermitCallCounter.Wrap(inner);
        var gate = Gate(store, limit: 100, burst: 100);

        // A lease of 10 spent whole, then someone else takes what is left of the burst.
        await gate.ApplyAsync(Batch(10), CancellationToken.None);
        Assert.True((await inner.TryAcquireRatePermitsAsync([Rule(100, 100).Request(TenantId.Default) with { Permits = 90 }], CancellationToken.None))[0].Acquired);

        // The next lease (twice as large) is refused, and each job asks for its own permit, refused as well.
        var batch = Batch(3);
        await gate.ApplyAsync(batch, CancellationToken.None);
        Assert.All(batch, static run => Assert.NotNull(run.RateLimited));
        Assert.Equal([10, 20, 1, 1, 1], calls.Permits);

        // Near the limit: a permit per job, no lease asked for.
        _time.Advance(TimeSpan.FromMilliseconds(25));
        var near = Batch(2);
        await gate.ApplyAsync(near, CancellationToken.None);
        Assert.Equal([1, 1], calls.Permits[^2..]);
        Assert.Null(near[0].RateLimited);
        Assert.Null(near[1].RateLimited);

        // Once the refusal is old, leases again.
        _time.Advance(RatePermitLeases.ContendedFor);
        await gate.ApplyAsync(Batch(1), CancellationToken.None);
        Assert.Equal(20, calls.Permits[^1]);
    }

    [Fact]
    public async Task EachTenantOfAPerTenantLimit_HasALeaseOfItsOwn()
    {
        var (store, calls) = PermitCallCounter.Wrap(new InMemoryJobStore(_time));
        var gate = Gate(store, limit: 1_000_000, burst: 1_000_000, perTenant: true);

        var batch = Batch(4, tenants: ["acme", "globex"]);
        await gate.ApplyAsync(batch, CancellationToken.None);

        Assert.All(batch, static run => Assert.Null(run.RateLimited));
        Assert.Equal([2, 2], calls.Permits);
        Assert.Equal(["rate:bench/1:acme", "rate:bench/1:globex"], calls.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ThreeServersDrainingFasterThanTheLimit_NeverStartMoreThanTheLimiterGranted()
    {
        const int limit = 1_000;
        var store = new InMemoryJobStore(_time);
        var gates = Enumerable.Range(0, 3).Select(_ => Gate(store, limit, burst: limit)).ToArray();
        var random = new Random(42);
        var started = 0;

        for (var step = 1; step <= 3_000; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            var batch = Batch(random.Next(1, 20));
            await gates[step % gates.Length].ApplyAsync(batch, CancellationToken.None);
            started += batch.Count(static run => run.RateLimited is null);

            // Every start is a permit the store granted, so the starts never pass burst + rate × elapsed time.
            Assert.True(started <= limit + step, $"{started} starts after {step} ms");
        }

        // The drain asks for ~30,000 over 3 s: the limit, not permits dropped unspent, decides how many start.
        Assert.InRange(started, limit + 3_000 - (3 * limit / 4), limit + 3_000);
    }

    [Fact]
    public async Task JobsRefusedByAPerTenantLimit_GetTurnsOfTheirOwn_OneIntervalApart_EachWithAPromotion()
    {
        var alarm = new PromotionAlarm();
        var gate = new RateLimitGate(new InMemoryJobStore(_time), [Rule(10, 1, perTenant: true)], _time, alarm);
        var t0 = _time.GetUtcNow();

        var batch = Batch(4);
        await gate.ApplyAsync(batch, CancellationToken.None);

        // The store's next turn is 100 ms away for all three; each gets a turn of its own instead.
        Assert.Null(batch[0].RateLimited);
        Assert.Equal([t0.AddMilliseconds(100), t0.AddMilliseconds(200), t0.AddMilliseconds(300)], batch[1..].Select(static r => r.RateLimited!.Value.Until));
        Assert.All(batch[1..], static r => Assert.False(r.RateLimited!.Value.Release));

        // The promoter is woken at the first of them, not at its tick a second away.
        var woken = alarm.WaitAsync(t0.AddSeconds(1), _time, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(woken.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.False(await woken.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AJobComingBackAtItsTurn_AFewMillisecondsBeforeThePermit_WaitsForItInItsWorker_InsteadOfGoingToTheEndOfTheLine()
    {
        var (store, calls) = PermitCallCounter.Wrap(new InMemoryJobStore(_time));
        var gate = new RateLimitGate(store, [Rule(10, 1, perTenant: true)], _time, new PromotionAlarm());
        var t0 = _time.GetUtcNow();
        var first = Batch(3);
        await gate.ApplyAsync(first, CancellationToken.None);

        // The second job comes back 5 ms late and takes its permit; the permit after it is then 5 ms after the third's turn.
        _time.Advance(TimeSpan.FromMilliseconds(105));
        await gate.ApplyAsync([Again(first[1])], CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(95));
        var third = Again(first[2]);
        await gate.ApplyAsync([third], CancellationToken.None);

        Assert.Null(third.RateLimited);
        Assert.Equal(t0.AddMilliseconds(205), third.TurnWait!.Value.Until);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await third.TurnWait.Value.AskAgain(CancellationToken.None);
        Assert.Null(third.RateLimited);
        Assert.Equal(4, calls.Calls);
    }

    [Fact]
    public async Task JobsComingBackLateAtTheirTurns_KeepTheirPlaces_WhileThePermitIsBeforeTheLinesNextTurn()
    {
        var gate = new RateLimitGate(new InMemoryJobStore(_time), [Rule(10, 1, perTenant: true)], _time, new PromotionAlarm());
        var t0 = _time.GetUtcNow();
        var first = Batch(3);
        await gate.ApplyAsync(first, CancellationToken.None);

        // The second job comes back 30 ms after its turn, the third 25 ms after its own: 5 ms before its permit.
        _time.Advance(TimeSpan.FromMilliseconds(130));
        await gate.ApplyAsync([Again(first[1])], CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(95));
        var third = Again(first[2]);
        await gate.ApplyAsync([third], CancellationToken.None);

        Assert.Null(third.RateLimited);
        Assert.Equal(t0.AddMilliseconds(230), third.TurnWait!.Value.Until);
    }

    [Fact]
    public async Task AJobRefusedForAFewMilliseconds_TakesATurnBehindTheJobsWaiting()
    {
        var gate = new RateLimitGate(new InMemoryJobStore(_time), [Rule(10, 1, perTenant: true)], _time, new PromotionAlarm());
        var t0 = _time.GetUtcNow();
        await gate.ApplyAsync(Batch(2), CancellationToken.None);

        _time.Advance(TimeSpan.FromMilliseconds(95));
        var late = Batch(1);
        await gate.ApplyAsync(late, CancellationToken.None);

        Assert.Equal(t0.AddMilliseconds(200), late[0].RateLimited!.Value.Until);
    }

    [Fact]
    public async Task WithNoJobWaiting_AJobWhoseTurnIsAFewMillisecondsAway_WaitsForItInItsWorker_ThenStarts()
    {
        var gate = new RateLimitGate(new InMemoryJobStore(_time), [Rule(100, 1, perTenant: true)], _time, new PromotionAlarm());
        var t0 = _time.GetUtcNow();

        var batch = Batch(2);
        await gate.ApplyAsync(batch, CancellationToken.None);
        Assert.Null(batch[1].RateLimited);
        Assert.Equal(t0.AddMilliseconds(10), batch[1].TurnWait!.Value.Until);

        _time.Advance(TimeSpan.FromMilliseconds(10));
        await batch[1].TurnWait!.Value.AskAgain(CancellationToken.None);
        Assert.All(batch, static r => Assert.Null(r.RateLimited));
    }

    [Fact]
    public async Task AJobAskedForAgainAfterItsWait_AndRefused_IsSnoozedToItsTurn()
    {
        var store = new InMemoryJobStore(_time);
        var gate = new RateLimitGate(store, [Rule(100, 1, perTenant: true)], _time, new PromotionAlarm());
        var batch = Batch(2);
        await gate.ApplyAsync(batch, CancellationToken.None);

        // Another server takes the permit at the turn.
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.True((await store.TryAcquireRatePermitsAsync([Rule(100, 1, perTenant: true).Request(TenantId.Default)], CancellationToken.None))[0].Acquired);
        await batch[1].TurnWait!.Value.AskAgain(CancellationToken.None);

        Assert.Equal(_time.GetUtcNow().AddMilliseconds(10), batch[1].RateLimited!.Value.Until);
    }

    [Fact]
    public async Task AJobTwoLimitsRefusedForAMoment_AsksBothAgainAfterItsWait_AndIsHeldWhenEitherRefuses()
    {
        var store = new InMemoryJobStore(_time);
        var perTenant = Rule(100, 1, perTenant: true);
        var perType = RateLimitRules.ToRule("echo-type", new RateLimit { Queue = QueueName.Default, JobType = "echo", Limit = 100, Period = TimeSpan.FromSeconds(1) });
        var gate = new RateLimitGate(store, [perTenant, perType], _time, new PromotionAlarm());
        var batch = Batch(2);
        await gate.ApplyAsync(batch, CancellationToken.None);
        Assert.NotNull(batch[1].TurnWait);

        // Another server takes the per-tenant permit at the turn; the per-type one is still free.
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.True((await store.TryAcquireRatePermitsAsync([perTenant.Request(TenantId.Default)], CancellationToken.None))[0].Acquired);
        await batch[1].TurnWait!.Value.AskAgain(CancellationToken.None);

        Assert.StartsWith("Rate limit 'bench' reached", batch[1].RateLimited!.Value.Reason, StringComparison.Ordinal);
    }

    /// <summary>The same job leased again (after its snooze), without the hold of its last lease.</summary>
    private static RunningJob Again(RunningJob run) => new(run.Job);

    private RateLimitGate Gate(IJobStore store, int limit, int burst, bool perTenant = false) =>
        new(store, [Rule(limit, burst, perTenant)], _time);

    private static RateLimitRule Rule(int limit, int burst, bool perTenant = false, TimeSpan? period = null) =>
        RateLimitRules.ToRule("bench", new RateLimit
        {
            Queue = QueueName.Default,
            Limit = limit,
            Period = period ?? TimeSpan.FromSeconds(1),
            Burst = burst,
            Partition = perTenant ? LimitPartition.Tenant : LimitPartition.None,
        });

    private RunningJob[] Batch(int count, string[]? tenants = null) =>
        LeasedJobs.Running(_time, count, "echo", i => tenants?[i % tenants.Length] ?? TenantId.Default);

    /// <summary>Counts the store's rate permit calls and records each request's key and permits.</summary>
    public class PermitCallCounter : DispatchProxy
    {
        private IJobStore _inner = null!;

        public int Calls { get; private set; }

        public List<int> Permits { get; } = [];

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);

        public static (IJobStore Store, PermitCallCounter Counter) Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, PermitCallCounter>();
            var counter = (PermitCallCounter)(object)proxy;
            counter._inner = inner;
            return (proxy, counter);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobCoordinationStore.TryAcquireRatePermitsAsync))
            {
                Calls++;
                foreach (var request in (IReadOnlyList<RatePermitRequest>)args![0]!)
                {
                    Permits.Add(request.Permits);
                    Keys.Add(request.Key);
                }
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
