using System.Reflection;
using System.Runtime.ExceptionServices;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A job deleted (by an operator or the janitor's purge) loses its id lookup and its unique key's claim in a step after
/// the script that deletes it, since both live outside the queue's slot. A job stored again under the same id in that
/// gap (an idempotent create's derived id, sent again) must keep its lookup, without which no read, cancel or delete by
/// id finds the job, and its claim, without which a second job is accepted under its unique key.
/// </summary>
public sealed class RedisLookupCleanupRaceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task Delete_WhenTheSameIdIsStoredAgainBeforeTheLookupIsDropped_KeepsTheNewJobsLookup()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-1" };
        await store.EnqueueAsync(job, CancellationToken.None);

        // Between delete.lua and the lookup's removal: another server stores the id again, in the same queue.
        interleaved.After(RedisScript.Delete, async () =>
            Assert.Equal(EnqueueOutcome.Enqueued, (await other.EnqueueAsync(job, CancellationToken.None)).Outcome));
        Assert.Equal(JobCommandResult.Done, await store.DeleteAsync(TenantId.Default, job.Id, CancellationToken.None));

        Assert.Equal(JobState.Pending, (await other.GetAsync(TenantId.Default, job.Id, CancellationToken.None))?.State);
        Assert.Equal(JobCommandResult.Done, await other.CancelAsync(TenantId.Default, job.Id, CancellationToken.None));
    }

    [RedisFact]
    public async Task Purge_WhenTheSameIdIsStoredAgainBeforeTheLookupIsDropped_KeepsTheNewJobsLookup()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-2", Retention = TimeSpan.FromMinutes(1) };
        await store.EnqueueAsync(job, CancellationToken.None);
        var leased = Assert.Single(await store.DequeueAsync(new DequeueRequest { Queues = [new QueueQuota("default", 1)], Limit = 1, ServerId = "s", LeaseDuration = TimeSpan.FromMinutes(5) }, CancellationToken.None));
        await store.AcknowledgeManyAsync([new JobAcknowledgement { JobId = leased.Id, LeaseToken = leased.LeaseToken, Outcome = AckOutcome.Succeeded }], CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(2));

        interleaved.After(RedisScript.Purge, async () =>
            Assert.Equal(EnqueueOutcome.Enqueued, (await other.EnqueueAsync(job, CancellationToken.None)).Outcome));
        Assert.Equal(1, await store.PurgeExpiredAsync(10, CancellationToken.None));

        Assert.Equal(JobState.Pending, (await other.GetAsync(TenantId.Default, job.Id, CancellationToken.None))?.State);
    }

    [RedisFact]
    public async Task Enqueue_WhenTheOldJobIsDeletedBetweenItsClaimAndItsStore_KeepsTheNewJobsLookup()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-3" };
        await other.EnqueueAsync(job, CancellationToken.None);
        await other.CancelAsync(TenantId.Default, job.Id, CancellationToken.None);

        // The claim finds the old job's lookup (same queue) and keeps it; the old job and that lookup go before the store.
        interleaved.After(RedisScript.ClaimId, async () =>
            Assert.Equal(JobCommandResult.Done, await other.DeleteAsync(TenantId.Default, job.Id, CancellationToken.None)));
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(job, CancellationToken.None)).Outcome);

        Assert.Equal(JobState.Pending, (await other.GetAsync(TenantId.Default, job.Id, CancellationToken.None))?.State);
    }

    [RedisFact]
    public async Task Enqueue_IntoAnotherQueue_WhenTheOldJobsLookupIsDroppedBetweenItsClaimAndItsTakeOver_KeepsTheNewJobsLookup()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var old = RedisKeyLayoutTests.NewJob("default") with { Id = "order-4" };
        await other.EnqueueAsync(old, CancellationToken.None);

        // The claim finds the old job's lookup naming its queue; the old job and then its lookup go before the take-over.
        interleaved.After(RedisScript.ClaimId, async () =>
            Assert.Equal(JobCommandResult.Done, await other.DeleteAsync(TenantId.Default, old.Id, CancellationToken.None)));
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob("elsewhere") with { Id = old.Id }, CancellationToken.None)).Outcome);

        var stored = await other.GetAsync(TenantId.Default, old.Id, CancellationToken.None);
        Assert.Equal((JobState.Pending, "elsewhere"), (stored?.State, stored?.Queue));
    }

    [RedisFact]
    public async Task Delete_WhenTheSameJobIsStoredAgainBeforeTheClaimIsDropped_KeepsTheNewJobsClaim()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-5", UniqueKey = "invoice-5" };
        await store.EnqueueAsync(job, CancellationToken.None);

        interleaved.After(RedisScript.Delete, () => StoreAgainAsync(other, job));
        Assert.Equal(JobCommandResult.Done, await store.DeleteAsync(TenantId.Default, job.Id, CancellationToken.None));

        await AssertKeyHeldAsync(other, job);
    }

    [RedisFact]
    public async Task BulkDelete_WhenTheSameJobIsStoredAgainBeforeTheClaimIsDropped_KeepsTheNewJobsClaim()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-6", UniqueKey = "invoice-6" };
        await store.EnqueueAsync(job, CancellationToken.None);

        interleaved.After(RedisScript.Bulk, () => StoreAgainAsync(other, job));
        Assert.Equal([JobCommandResult.Done], await store.RunBulkAsync(JobBulkAction.Delete, TenantId.Default, [job.Id], CancellationToken.None));

        await AssertKeyHeldAsync(other, job);
    }

    [RedisFact]
    public async Task Purge_WhenTheSameJobIsStoredAgainBeforeTheClaimIsDropped_KeepsTheNewJobsClaim()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-7", UniqueKey = "invoice-7", Retention = TimeSpan.FromMinutes(1) };
        await FinishAsync(store, job);
        _time.Advance(TimeSpan.FromMinutes(2));

        interleaved.After(RedisScript.Purge, () => StoreAgainAsync(other, job));
        Assert.Equal(1, await store.PurgeExpiredAsync(10, CancellationToken.None));

        await AssertKeyHeldAsync(other, job);
    }

    [RedisFact]
    public async Task Trim_WhenTheSameJobIsStoredAgainBeforeTheClaimIsDropped_KeepsTheNewJobsClaim()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var job = RedisKeyLayoutTests.NewJob("default") with { Id = "order-8", UniqueKey = "invoice-8" };
        await FinishAsync(store, job);

        interleaved.After(RedisScript.Trim, () => StoreAgainAsync(other, job));
        Assert.Equal(1, await store.TrimFinishedAsync("default", 0, 0, 10, CancellationToken.None));

        await AssertKeyHeldAsync(other, job);
    }

    [RedisFact]
    public async Task Enqueue_OfOneIdIntoTwoQueuesAtOnce_StoresOneJobAndAnswersTheOtherAsADuplicate()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var first = RedisKeyLayoutTests.NewJob("default") with { Id = "order-9" };
        EnqueueResult? second = null;

        // Between the first enqueue's claim of the id and its store, another server enqueues the id into another queue.
        interleaved.After(RedisScript.ClaimId, async () => second = await other.EnqueueAsync(RedisKeyLayoutTests.NewJob("elsewhere") with { Id = first.Id }, CancellationToken.None));
        var stored = await store.EnqueueAsync(first, CancellationToken.None);

        Assert.Equal(EnqueueOutcome.Enqueued, stored.Outcome);
        Assert.Equal((EnqueueOutcome.DuplicateId, "default"), (second?.Outcome, second?.Queue));
        var page = await other.ListAsync(new JobQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Equal(["default"], page.Jobs.Select(j => j.Queue));
    }

    [RedisFact]
    public async Task EnqueueAllOrNone_OfAnIdBeingStoredInAnotherQueue_IsRefusedAsADuplicate()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var first = RedisKeyLayoutTests.NewJob("default") with { Id = "order-10" };
        EnqueueAllResult? fanOut = null;

        interleaved.After(RedisScript.ClaimId, async () => fanOut = await other.EnqueueAllOrNoneAsync([RedisKeyLayoutTests.NewJob("elsewhere") with { Id = first.Id }], CancellationToken.None));
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(first, CancellationToken.None)).Outcome);

        Assert.Equal((EnqueueOutcome.DuplicateId, "default"), (fanOut?.Refusal?.Outcome, fanOut?.Refusal?.Queue));
        Assert.Equal("default", (await other.GetAsync(TenantId.Default, first.Id, CancellationToken.None))?.Queue);
    }

    [RedisFact]
    public async Task Enqueue_AfterAnEnqueueStoppedBetweenItsClaimAndItsStore_TakesTheIdIntoAnotherQueueOnceTheMarkHasLapsed()
    {
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var stopped = RedisKeyLayoutTests.NewJob("default") with { Id = "order-11" };
        var moved = RedisKeyLayoutTests.NewJob("elsewhere") with { Id = stopped.Id };

        // The first enqueue's process stops right after its claim: its store never comes.
        interleaved.After(RedisScript.ClaimId, () => throw new ClaimStoppedException());
        await Assert.ThrowsAsync<ClaimStoppedException>(async () => await store.EnqueueAsync(stopped, CancellationToken.None));
        Assert.Equal((EnqueueOutcome.DuplicateId, "default"), Outcome(await other.EnqueueAsync(moved, CancellationToken.None)));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal((EnqueueOutcome.Enqueued, "elsewhere"), Outcome(await other.EnqueueAsync(moved, CancellationToken.None)));
        Assert.Equal("elsewhere", (await store.GetAsync(TenantId.Default, stopped.Id, CancellationToken.None))?.Queue);
        Assert.Equal((EnqueueOutcome.DuplicateId, "elsewhere"), Outcome(await store.EnqueueAsync(stopped, CancellationToken.None)));

        static (EnqueueOutcome, string) Outcome(EnqueueResult result) => (result.Outcome, result.Queue);
    }

    private sealed class ClaimStoppedException : Exception;

    [RedisFact]
    public async Task EnqueueMany_WhoseClaimComesLongAfterTheCallBegan_HoldsTheIdFromItsClaim()
    {
        // A list stores a job with a unique key first, one at a time; the caller-chosen id after it is claimed two minutes
        // into the call. Its mark holds the id for a minute from the claim, not from the call's start.
        var (interleaved, other) = await TwoServersAsync();
        await using var store = interleaved.Store;
        await using var otherStore = other;
        var keyed = RedisKeyLayoutTests.NewJob("default") with { UniqueKey = "report-" + Guid.NewGuid().ToString("N") };
        var chosen = RedisKeyLayoutTests.NewJob("default") with { Id = "order-" + Guid.NewGuid().ToString("N") };
        EnqueueResult? second = null;
        interleaved.After(RedisScript.Enqueue, () =>
        {
            _time.Advance(TimeSpan.FromMinutes(2));
            interleaved.After(RedisScript.ClaimId, async () => second = await other.EnqueueAsync(chosen with { Queue = "elsewhere" }, CancellationToken.None));
            return Task.CompletedTask;
        });

        var stored = await store.EnqueueManyAsync([keyed, chosen], CancellationToken.None);

        Assert.Equal([EnqueueOutcome.Enqueued, EnqueueOutcome.Enqueued], stored.Select(r => r.Outcome));
        Assert.Equal((EnqueueOutcome.DuplicateId, "default"), (second?.Outcome, second?.Queue));
    }

    private static async Task FinishAsync(RedisJobStore store, NewJob job)
    {
        await store.EnqueueAsync(job, CancellationToken.None);
        var leased = Assert.Single(await store.DequeueAsync(new DequeueRequest { Queues = [new QueueQuota(job.Queue, 1)], Limit = 1, ServerId = "s", LeaseDuration = TimeSpan.FromMinutes(5) }, CancellationToken.None));
        await store.AcknowledgeManyAsync([new JobAcknowledgement { JobId = leased.Id, LeaseToken = leased.LeaseToken, Outcome = AckOutcome.Succeeded }], CancellationToken.None);
    }

    /// <summary>Another server stores the job again, a moment later (its claim differs from the old one's by its time).</summary>
    private async Task StoreAgainAsync(RedisJobStore other, NewJob job)
    {
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(EnqueueOutcome.Enqueued, (await other.EnqueueAsync(job, CancellationToken.None)).Outcome);
    }

    /// <summary>The job stored again holds its unique key: another job under the key is refused.</summary>
    private static async Task AssertKeyHeldAsync(RedisJobStore store, NewJob job)
    {
        Assert.Equal(JobState.Pending, (await store.GetAsync(TenantId.Default, job.Id, CancellationToken.None))?.State);
        var second = await store.EnqueueAsync(RedisKeyLayoutTests.NewJob(job.Queue) with { UniqueKey = job.UniqueKey }, CancellationToken.None);
        Assert.Equal((EnqueueOutcome.DuplicateUniqueKey, job.Id), (second.Outcome, second.JobId));
    }

    /// <summary>Two servers' stores on one fresh prefix: one whose script replies can be interleaved with, and another.</summary>
    private async Task<(Interleaving Interleaved, RedisJobStore Other)> TwoServersAsync()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        var interleaved = await InterleavedStoreAsync(prefix);
        var other = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);
        await interleaved.Store.InitializeAsync(CancellationToken.None);
        await other.InitializeAsync(CancellationToken.None);
        return (interleaved, other);
    }

    private async Task<Interleaving> InterleavedStoreAsync(string prefix)
    {
        var connection = await RedisTestEnvironment.ConnectionAsync();
        var interleaving = new Interleaving();
        var database = DispatchProxy.Create<IDatabase, InterceptingProxy>();
        ((InterceptingProxy)(object)database).Init(connection.GetDatabase(), interleaving);
        var multiplexer = DispatchProxy.Create<IConnectionMultiplexer, ConnectionProxy>();
        ((ConnectionProxy)(object)multiplexer).Init(connection, database);
        interleaving.Store = new RedisJobStore(multiplexer, new RedisStoreOptions { KeyPrefix = prefix }, _time);
        return interleaving;
    }

    /// <summary>Runs an action once, right after a given script has answered and before the store reads its answer.</summary>
    internal sealed class Interleaving
    {
        private byte[]? _sha;
        private Func<Task>? _action;

        public RedisJobStore Store { get; set; } = null!;

        public void After(RedisScript script, Func<Task> action)
        {
            _sha = script.Sha1;
            _action = action;
        }

        public object? Wrap(MethodInfo method, object?[]? args, object? result)
        {
            if (method.Name == nameof(IDatabaseAsync.ScriptEvaluateAsync) && args is [byte[] sha, ..] && _sha is not null && sha.AsSpan().SequenceEqual(_sha)
                && result is Task<RedisResult> reply && Interlocked.Exchange(ref _action, null) is { } action)
            {
                return ThenAsync(reply, action);
            }

            return result;
        }

        private static async Task<RedisResult> ThenAsync(Task<RedisResult> reply, Func<Task> action)
        {
            var result = await reply;
            await action();
            return result;
        }
    }

    /// <summary>A database (and the batches it creates) whose script calls go through an <see cref="Interleaving"/>.</summary>
    public class InterceptingProxy : DispatchProxy
    {
        private object _inner = null!;
        private Interleaving _interleaving = null!;

        internal void Init(object inner, Interleaving interleaving)
        {
            _inner = inner;
            _interleaving = interleaving;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var result = Forward(_inner, targetMethod!, args);
            if (targetMethod!.Name == nameof(IDatabase.CreateBatch) && result is IBatch batch)
            {
                var proxy = Create<IBatch, InterceptingProxy>();
                ((InterceptingProxy)(object)proxy).Init(batch, _interleaving);
                return proxy;
            }

            return _interleaving.Wrap(targetMethod, args, result);
        }
    }

    /// <summary>A connection that hands out the intercepting database and forwards everything else.</summary>
    public class ConnectionProxy : DispatchProxy
    {
        private IConnectionMultiplexer _inner = null!;
        private IDatabase _database = null!;

        internal void Init(IConnectionMultiplexer inner, IDatabase database)
        {
            _inner = inner;
            _database = database;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod!.Name == nameof(IConnectionMultiplexer.GetDatabase) ? _database : Forward(_inner, targetMethod, args);
    }

    private static object? Forward(object inner, MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
