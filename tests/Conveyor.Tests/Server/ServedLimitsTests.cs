using System.Reflection;
using Conveyor.Limits;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// The jobs a server snoozed to turns of a rate limit start again once that limit is removed or changed, whatever
/// other limits changed in between.
/// </summary>
public sealed class ServedLimitsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LimitsInForce _inForce = new(Options.Create(new ConveyorOptions()));

    private static readonly RateLimit Slow = PerTenant(1, TimeSpan.FromSeconds(120));
    private static readonly RateLimit Fast = PerTenant(50, TimeSpan.FromSeconds(1));
    private static readonly RateLimit Unrelated = Other(3);

    /// <summary>
    /// An outside run: with another limit created between the snoozes and the change, the three jobs held by a limit of
    /// one per 120 s stayed SCHEDULED after it was raised to 50 a second (4 runs of 4); without it they started.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task JobsSnoozedToTurnsOfALimit_StartWhenItChanges_AfterAnotherLimitChangedInBetween(bool deleteIt)
    {
        var (store, requeued) = RequeueRecorder.Wrap(new InMemoryJobStore(_time));
        var served = new ServedLimits(_inForce, [QueueName.Default], store, _time);
        Put(("a", Slow));
        var batch = Batch(4);
        await served.Rate!.ApplyAsync(batch, CancellationToken.None);
        var snoozed = batch[1..].Select(static r => r.Job.Id).ToArray();
        Assert.All(batch[1..], static r => Assert.NotNull(r.RateLimited));

        Put(("a", Slow), ("c", Unrelated));
        Assert.NotNull(served.Rate);
        Assert.Equal(0, await served.StartWaitingOfChangedLimitsAsync(CancellationToken.None));

        Put(deleteIt ? [("c", Unrelated)] : [("a", Fast), ("c", Unrelated)]);
        await served.StartWaitingOfChangedLimitsAsync(CancellationToken.None);

        Assert.Equal(snoozed.Order(StringComparer.Ordinal), requeued.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// An outside run (two servers): a job the other server leased in the milliseconds after a raise, its gate still the
    /// old one, was snoozed to the old rate's turn after that server's change had started the jobs waiting for those
    /// turns, and waited for it (~57 s).
    /// </summary>
    [Fact]
    public async Task AJobAGateBuiltBeforeAChangeRefuses_AfterTheChange_IsHeldUntilNow_NotToTheOldRatesTurn()
    {
        var (store, _) = RequeueRecorder.Wrap(new InMemoryJobStore(_time));
        var served = new ServedLimits(_inForce, [QueueName.Default], store, _time);
        Put(("a", Slow), ("c", Unrelated));
        var before = served.Rate!;
        await before.ApplyAsync(Batch(1), CancellationToken.None);
        var now = _time.GetUtcNow();

        // Another limit changed: this one's refusals by the gate built before keep their turns.
        Put(("a", Slow), ("c", Other(5)));
        Assert.NotSame(before, served.Rate);
        var unchanged = Batch(1);
        await before.ApplyAsync(unchanged, CancellationToken.None);
        Assert.True(unchanged[0].RateLimited!.Value.Until > now.AddSeconds(100));

        Put(("a", Fast), ("c", Other(5)));
        Assert.NotNull(served.Rate);
        var decidedLate = Batch(2);
        await before.ApplyAsync(decidedLate, CancellationToken.None);

        Assert.All(decidedLate, r => Assert.Equal(now, r.RateLimited!.Value.Until));

        // The gate built after the change gives turns of the limit in force: a job it refuses waits for one, not for now
        // (held until now over and over, such a job would be promoted and refused again in a loop).
        var current = served.Rate!;
        var afterChange = Batch(60);
        await current.ApplyAsync(afterChange, CancellationToken.None);
        Assert.Contains(afterChange, r => r.RateLimited is { } held && held.Until > now);
        Assert.DoesNotContain(afterChange, r => r.RateLimited is { } held && held.Until == now);
    }

    [Fact]
    public async Task JobsSnoozedToTurnsOfAnUnchangedLimit_KeepTheirTurns()
    {
        var (store, requeued) = RequeueRecorder.Wrap(new InMemoryJobStore(_time));
        var served = new ServedLimits(_inForce, [QueueName.Default], store, _time);
        Put(("a", Slow));
        await served.Rate!.ApplyAsync(Batch(3), CancellationToken.None);

        Put(("a", Slow), ("c", Unrelated));
        Put(("a", Slow), ("c", Other(5)));
        await served.StartWaitingOfChangedLimitsAsync(CancellationToken.None);

        Assert.Empty(requeued);
    }

    /// <summary>
    /// An outside run: a limit of 1 per 120 s given 50 a second and then 1 per 120 s again (or deleted and created
    /// again) refused the next job for two minutes, the debt of the first job under the earlier definition.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALimitGivenBackItsEarlierRate_OrCreatedAgain_StartsFromAFreshLimiter(bool recreate)
    {
        var store = new InMemoryJobStore(_time);
        var refresher = new LimitsRefresher(store, _inForce, TimeSpan.FromSeconds(5), _time, NullLogger.Instance);
        var served = new ServedLimits(_inForce, [QueueName.Default], store, _time);
        await store.PutLimitAsync(LimitDefinitions.ToRecord("x", Slow, LimitSource.Api), CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);
        Assert.Null((await StartOneAsync(served)).RateLimited);
        Assert.NotNull((await StartOneAsync(served)).RateLimited);

        _time.Advance(TimeSpan.FromSeconds(1));
        if (recreate)
        {
            await store.DeleteLimitAsync(LimitKind.Rate, "x", CancellationToken.None);
        }
        else
        {
            await store.PutLimitAsync(LimitDefinitions.ToRecord("x", Fast, LimitSource.Api), CancellationToken.None);
            await refresher.RunOnceAsync(CancellationToken.None);
            Assert.Null((await StartOneAsync(served)).RateLimited);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        await store.PutLimitAsync(LimitDefinitions.ToRecord("x", Slow, LimitSource.Api), CancellationToken.None);
        await refresher.RunOnceAsync(CancellationToken.None);

        Assert.Null((await StartOneAsync(served)).RateLimited);
        Assert.NotNull((await StartOneAsync(served)).RateLimited);
    }

    /// <summary>A process that never reads the store (a web app taking permits with its configuration) shares the servers' limiter.</summary>
    [Fact]
    public void AConfiguredLimitReadFromTheStore_KeepsTheLimiterKeyOfItsConfiguration()
    {
        var fromStore = LimitDefinitions.ToOptions([LimitDefinitions.ToRecord("x", Slow, LimitSource.Configuration) with { UpdatedAt = _time.GetUtcNow() }]).Rate["x"];
        var setThroughApi = LimitDefinitions.ToOptions([LimitDefinitions.ToRecord("x", Slow, LimitSource.Api) with { UpdatedAt = _time.GetUtcNow() }]).Rate["x"];

        Assert.Equal(RateLimitRules.ToRule("x", Slow).KeyFor("beta"), RateLimitRules.ToRule("x", fromStore).KeyFor("beta"));
        Assert.NotEqual(RateLimitRules.ToRule("x", Slow).KeyFor("beta"), RateLimitRules.ToRule("x", setThroughApi).KeyFor("beta"));
    }

    private async Task<RunningJob> StartOneAsync(ServedLimits served)
    {
        var job = Batch(1);
        await served.Rate!.ApplyAsync(job, CancellationToken.None);
        return job[0];
    }

    private static RateLimit PerTenant(int limit, TimeSpan period) =>
        new() { Queue = QueueName.Default, JobType = "note:archive", Partition = LimitPartition.Tenant, Limit = limit, Period = period };

    private static RateLimit Other(int limit) => new() { Queue = QueueName.Default, JobType = "other", Limit = limit, Period = TimeSpan.FromSeconds(1) };

    private void Put(params (string Name, RateLimit Limit)[] limits) =>
        _inForce.Apply(limits.Select(static l => LimitDefinitions.ToRecord(l.Name, l.Limit, LimitSource.Api)).ToList(), _inForce.BeginRead());

    private RunningJob[] Batch(int count) => LeasedJobs.Running(_time, count, "note:archive", _ => "beta");

    /// <summary>Records the ids the bulk requeue was asked to start, and answers each was.</summary>
    public class RequeueRecorder : DispatchProxy
    {
        private IJobStore _inner = null!;

        public List<string> Requeued { get; } = [];

        public static (IJobStore Store, List<string> Requeued) Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, RequeueRecorder>();
            var recorder = (RequeueRecorder)(object)proxy;
            recorder._inner = inner;
            return (proxy, recorder.Requeued);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobQueryStore.RunBulkAsync) && args![0] is JobBulkAction.Requeue)
            {
                var ids = (IReadOnlyList<string>)args[2]!;
                Requeued.AddRange(ids);
                return ValueTask.FromResult<IReadOnlyList<JobCommandResult>>(ids.Select(static _ => JobCommandResult.Done).ToList());
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
