using System.Diagnostics;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// The base of every conformance test class: a fresh, isolated store per test, driven by a
/// <see cref="FakeTimeProvider"/> that starts at <see cref="StartTime"/>, and helpers that keep the
/// tests about behaviour rather than set-up.
/// </summary>
/// <remarks>
/// xunit creates one instance of the test class per test, so every test gets its own store. A store's
/// test project subclasses each area class once and only implements <see cref="CreateStoreAsync"/>.
/// </remarks>
public abstract class JobStoreTestBase : IAsyncLifetime
{
    /// <summary>The fake clock's start: a whole second, so that every store can represent every instant used.</summary>
    public static readonly DateTimeOffset StartTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The lease duration the helpers dequeue with.</summary>
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>The server id the helpers dequeue as.</summary>
    protected const string ServerId = "server-a";

    /// <summary>The queue the helpers use when none is named.</summary>
    protected const string DefaultQueue = QueueName.Default;

    /// <summary>The tenant the helpers use when none is named.</summary>
    protected const string DefaultTenant = TenantId.Default;

    // A real-time guard so that a store that hangs fails its test instead of the whole run.
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(120));
    private IJobStore? _store;

    /// <summary>The store's clock. Nothing moves it but the test.</summary>
    protected FakeTimeProvider Time { get; } = new(StartTime);

    /// <summary>The store under test, created and initialized before each test.</summary>
    protected IJobStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>The token every store call gets: cancelled only if a test runs for minutes.</summary>
    protected CancellationToken Ct => _guard.Token;

    /// <summary>The current fake time.</summary>
    protected DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>
    /// Creates a fresh store, isolated from every other test's store (a new file, key prefix or schema),
    /// that takes every timestamp from <paramref name="timeProvider"/>. The base calls
    /// <see cref="IJobStore.InitializeAsync"/> on it and disposes it after the test.
    /// </summary>
    protected abstract ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider);

    public virtual async Task InitializeAsync()
    {
        _store = await CreateStoreAsync(Time);
        await _store.InitializeAsync(Ct);
    }

    public virtual async Task DisposeAsync()
    {
        switch (_store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }

        _store = null;
        _guard.Dispose();
    }

    /// <summary>A job with sensible defaults: a new generated id, type "test:run", the default queue and tenant, payload "{}".</summary>
    protected static NewJob NewJob(
        string? id = null,
        string type = "test:run",
        string queue = DefaultQueue,
        string tenant = DefaultTenant,
        byte[]? payload = null,
        int maxRetry = 3,
        TimeSpan? timeout = null,
        DateTimeOffset? deadline = null,
        DateTimeOffset? processAt = null,
        string? uniqueKey = null,
        DateTimeOffset? uniqueUntil = null,
        TimeSpan? retention = null,
        string? traceParent = null,
        TimeSpan? failedRetention = null,
        TimeSpan? cancelledRetention = null) => new()
        {
            Id = id ?? JobId.New(),
            Type = type,
            Queue = queue,
            Tenant = tenant,
            Payload = payload ?? "{}"u8.ToArray(),
            MaxRetry = maxRetry,
            Timeout = timeout,
            Deadline = deadline,
            ProcessAt = processAt,
            UniqueKey = uniqueKey,
            UniqueUntil = uniqueUntil,
            Retention = retention ?? TimeSpan.FromDays(1),
            FailedRetention = failedRetention,
            CancelledRetention = cancelledRetention,
            TraceParent = traceParent,
        };

    /// <summary>Enqueues the job (a default one when null), asserts that it was stored, and returns its id.</summary>
    protected async Task<string> EnqueueAsync(NewJob? job = null)
    {
        job ??= NewJob();
        var result = await Store.EnqueueAsync(job, Ct);
        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        Assert.Equal(job.Id, result.JobId);
        return result.JobId;
    }

    /// <summary>Enqueues <paramref name="count"/> default jobs on <paramref name="queue"/>, one clock tick (1 ms) apart, and returns their ids in order.</summary>
    protected async Task<List<string>> EnqueueManyAsync(int count, string queue = DefaultQueue, string tenant = DefaultTenant)
    {
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(await EnqueueAsync(NewJob(queue: queue, tenant: tenant)));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        return ids;
    }

    /// <summary>A dequeue request for <paramref name="queues"/>, each with a first-pass quota of <paramref name="limit"/>.</summary>
    protected static DequeueRequest Request(int limit, TimeSpan? lease = null, string serverId = ServerId, params string[] queues) => new()
    {
        Queues = (queues.Length == 0 ? [DefaultQueue] : queues).Select(q => new QueueQuota(q, limit)).ToArray(),
        Limit = limit,
        ServerId = serverId,
        LeaseDuration = lease ?? Lease,
    };

    /// <summary>Dequeues up to <paramref name="limit"/> jobs from the given queues (the default queue when none).</summary>
    protected async Task<IReadOnlyList<LeasedJob>> DequeueAsync(int limit, params string[] queues) =>
        await Store.DequeueAsync(Request(limit, queues: queues), Ct);

    /// <summary>Dequeues from <paramref name="queue"/> and asserts that exactly one job came out.</summary>
    protected async Task<LeasedJob> DequeueOneAsync(string queue = DefaultQueue, TimeSpan? lease = null)
    {
        var jobs = await Store.DequeueAsync(Request(1, lease, queues: queue), Ct);
        return Assert.Single(jobs);
    }

    /// <summary>Dequeues from the queue and asserts that nothing came out.</summary>
    protected async Task AssertNothingToDequeueAsync(params string[] queues)
    {
        var jobs = await Store.DequeueAsync(Request(100, queues: queues), Ct);
        Assert.Empty(jobs);
    }

    /// <summary>Gets the job of the default tenant and asserts that it exists.</summary>
    protected async Task<JobInfo> GetAsync(string id, string tenant = DefaultTenant)
    {
        var job = await Store.GetAsync(tenant, id, Ct);
        Assert.NotNull(job);
        return job;
    }

    /// <summary>Asserts the job's state.</summary>
    protected async Task AssertStateAsync(string id, JobState expected, string tenant = DefaultTenant) =>
        Assert.Equal(expected, (await GetAsync(id, tenant)).State);

    /// <summary>An acknowledgement of the leased job, naming its batch as the server does.</summary>
    protected static JobAcknowledgement Ack(
        LeasedJob job,
        AckOutcome outcome,
        JobError? error = null,
        DateTimeOffset? retryAt = null,
        IReadOnlyList<JobError>? itemErrors = null,
        byte[]? result = null,
        string? resultUrl = null,
        long? leaseToken = null) => new()
        {
            JobId = job.Id,
            LeaseToken = leaseToken ?? job.LeaseToken,
            Outcome = outcome,
            Error = error,
            RetryAt = retryAt,
            ItemErrors = itemErrors ?? [],
            Result = result is null ? default(ReadOnlyMemory<byte>?) : result,
            ResultUrl = resultUrl,
            BatchId = job.BatchId,
        };

    /// <summary>Acknowledges one attempt and returns whether it applied.</summary>
    protected async Task<bool> AckAsync(JobAcknowledgement acknowledgement) =>
        await Store.AcknowledgeManyAsync([acknowledgement], Ct) == 1;

    /// <summary>An attempt error recorded now.</summary>
    protected JobError Error(int attempt, string message = "boom", string? exceptionType = "System.InvalidOperationException", string? item = null) =>
        new(attempt, message, exceptionType, item, Now);

    /// <summary>Deterministic pseudo-random bytes.</summary>
    protected static byte[] Bytes(int length, int seed = 42)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>
    /// Creates a job (the default one when null) and drives it into <paramref name="state"/> through the
    /// public operations. The job's queue must hold no other pending job. Returns the job's id.
    /// </summary>
    protected async Task<string> CreateJobInStateAsync(JobState state, NewJob? job = null)
    {
        job ??= NewJob();
        if (state == JobState.Scheduled)
        {
            return await EnqueueAsync(job with { ProcessAt = Now.AddHours(1) });
        }

        if (state == JobState.Waiting)
        {
            // Waits for a job that is due only in an hour, so nothing in the queue can be dequeued meanwhile.
            var dependency = await EnqueueAsync(NewJob(queue: job.Queue, tenant: job.Tenant, processAt: Now.AddHours(1)));
            return await EnqueueAsync(job with { ProcessAt = null, DependsOn = [new JobDependency(dependency, SuccessOnly: true)] });
        }

        var id = await EnqueueAsync(job with { ProcessAt = null });
        if (state == JobState.Pending)
        {
            return id;
        }

        var leased = await DequeueOneAsync(job.Queue);
        Assert.Equal(id, leased.Id);
        var ack = state switch
        {
            JobState.Active => null,
            JobState.Retrying => Ack(leased, AckOutcome.Retry, Error(leased.Attempt), retryAt: Now.AddHours(1)),
            JobState.Succeeded => Ack(leased, AckOutcome.Succeeded),
            JobState.Partial => Ack(leased, AckOutcome.Partial, itemErrors: [Error(leased.Attempt, "item failed", null, "item-1")]),
            JobState.Failed => Ack(leased, AckOutcome.Failed, Error(leased.Attempt)),
            JobState.Cancelled => Ack(leased, AckOutcome.Cancelled),
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
        };
        if (ack is not null)
        {
            Assert.True(await AckAsync(ack));
        }

        await AssertStateAsync(id, state, job.Tenant);
        return id;
    }

    /// <summary>The finished states, for theories.</summary>
    public static TheoryData<JobState> FinishedStates => new(JobState.Succeeded, JobState.Partial, JobState.Failed, JobState.Cancelled);

    /// <summary>The unfinished states, for theories.</summary>
    public static TheoryData<JobState> UnfinishedStates => new(JobState.Scheduled, JobState.Pending, JobState.Active, JobState.Retrying);

    /// <summary>Every state but <see cref="JobState.Waiting"/> (its tests are in <c>WorkflowTests</c>), for theories.</summary>
    public static TheoryData<JobState> AllStates => new(Enum.GetValues<JobState>().Where(static s => s != JobState.Waiting));

    /// <summary>Waits, in real time, until <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/>.</summary>
    protected static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string? because = null) =>
        await WaitUntilAsync(() => Task.FromResult(condition()), timeout, because);

    /// <summary>Waits, in real time, until <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/>.</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string? because = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Condition not met within {timeout}{(because is null ? "" : ": " + because)}.");
            }

            await Task.Delay(10);
        }
    }
}
