using System.Globalization;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    // enqueue_all.lua's ARGV: 12 header entries, 3 per queue, then per job 4 of its own before enqueue.lua's 13 and
    // 4 for its workflow (batch, dependencies, the dependencies' queues, which dependencies are on other slots).
    private const int EnqueueAllHeader = 12;
    private const int EnqueueAllPerQueue = 3;
    private const int EnqueueAllPerJob = 4 + JobArguments + 4;

    /// <inheritdoc />
    /// <remarks>
    /// One call of enqueue_all.lua, which checks every job before its first write. On one Redis node the script may
    /// touch every queue. In a Redis Cluster a script must stay in one slot: every queue of the list must hash to the
    /// same slot (in practice, one queue) and no job may carry a unique key or a caller-chosen id (their keys live in
    /// slots of their own); any other list is refused with an <see cref="ArgumentException"/> before anything is
    /// written (docs/redis.md, "Fan-out on a Cluster").
    /// </remarks>
    public async ValueTask<EnqueueAllResult> EnqueueAllOrNoneAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        foreach (var job in jobs)
        {
            EnsureValid(job);
        }

        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, _time.GetUtcNow()) is { } repeated)
        {
            return repeated;
        }

        if (jobs.Count == 0)
        {
            return EnqueueAllResult.Stored([]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            await EnsureWritableAsync(jobs).ConfigureAwait(false);
            return (await StoreAllAsync(db, jobs, BatchOperation.None).ConfigureAwait(false))!;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>What enqueue_all.lua does to a batch before it stores the jobs (ARGV[6] to ARGV[10]; Workflow: WorkflowJson or "").</summary>
    private readonly record struct BatchOperation(string Name, string Id = "", string Tenant = "", long RetentionMicros = 0, string Workflow = "")
    {
        public static BatchOperation None => new(string.Empty);
    }

    /// <summary>
    /// One call of enqueue_all.lua: every job of the list or none, with the batch operation. Null when the batch to add
    /// to is not the tenant's or no longer runs.
    /// </summary>
    private async Task<EnqueueAllResult?> StoreAllAsync(IDatabase db, IReadOnlyList<NewJob> jobs, BatchOperation batchOperation)
    {
        var connectionChanges = _replication.ConnectionChanges;
        var now = NowMicros();
        var dependencyQueues = jobs.Any(static j => j.HasFlow) ? await DependencyQueuesAsync(db, jobs).ConfigureAwait(false) : null;
        var oneNode = RegistersQueueInScript();
        if (!oneNode && CrossesSlots(jobs, batchOperation, dependencyQueues))
        {
            return await StoreAcrossSlotsAsync(db, jobs, batchOperation, dependencyQueues, now, connectionChanges).ConfigureAwait(false);
        }

        var (keys, arguments, queueNames) = EnqueueAllCall(jobs, now, batchOperation, dependencyQueues, remote: null);
        arguments[10] = oneNode ? "0" : "1";
        if (!oneNode)
        {
            EnsureOneSlot(jobs, keys);

            // The set of queue names lives in another slot: it is written by a command of its own, and its place
            // in KEYS holds a key of the list's slot, unused.
            keys[0] = keys[1];
        }

        arguments[3] = oneNode ? "1" : "0";
        var register = oneNode ? Task.CompletedTask : Task.WhenAll(queueNames.Select(q => RegisterQueue(db, q)).OfType<Task>());
        var reply = (RedisValue[])(await EvaluateAsync(db, RedisScript.EnqueueAll, keys, arguments).ConfigureAwait(false))!;
        await register.ConfigureAwait(false);
        switch ((int)reply[0])
        {
            case 2:
                return null;
            case 3:
                throw new ArgumentException($"A batch with id '{batchOperation.Id}' exists.", "batch");
            case 1:
                var outcome = (int)reply[2] switch
                {
                    1 => EnqueueOutcome.DuplicateId,
                    2 => EnqueueOutcome.DuplicateUniqueKey,
                    _ => EnqueueOutcome.DependencyNotFound,
                };
                var refusal = new EnqueueResult(
                    outcome,
                    (string)reply[3]!,
                    JobStateExtensions.FromStorageName((string)reply[4]!),
                    (string)reply[5]!,
                    RedisTime.Instant(reply[6]) ?? DateTimeOffset.UnixEpoch);
                return EnqueueAllResult.Refused((int)reply[1], refusal);
        }

        var results = new EnqueueResult[jobs.Count];
        var anyPending = false;
        for (var i = 0; i < jobs.Count; i++)
        {
            var state = JobStateExtensions.FromStorageName((string)reply[i + 1]!);
            anyPending |= state == JobState.Pending;
            results[i] = new EnqueueResult(EnqueueOutcome.Enqueued, jobs[i].Id, state, jobs[i].Queue, RedisTime.FromMicros(now));
        }

        if (anyPending)
        {
            SignalJobsReady();
        }

        await EnsureReplicatedAsync(jobs, connectionChanges, coordination: batchOperation.Name.Length > 0).ConfigureAwait(false);
        return EnqueueAllResult.Stored(results);
    }

    /// <summary>A workflow job stored on its own (the single enqueue operations), all its links in the same call.</summary>
    private async Task<EnqueueResult> EnqueueFlowAsync(IDatabase db, NewJob job)
    {
        var result = (await StoreAllAsync(db, [job], BatchOperation.None).ConfigureAwait(false))!;
        return result.AllStored ? result.Results[0] : result.Refusal!;
    }

    /// <summary>
    /// The queue of each job dependency of the list (an earlier job of the list, or one the store holds; "" when none
    /// is found, which the script refuses in list order): the finishing script reaches the dependency's hash by it.
    /// </summary>
    private async Task<Dictionary<string, string>> DependencyQueuesAsync(IDatabase db, IReadOnlyList<NewJob> jobs)
    {
        var queues = new Dictionary<string, string>(StringComparer.Ordinal);
        var inList = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            foreach (var dependency in job.DependsOn)
            {
                if (!dependency.OnBatch && !queues.ContainsKey(dependency.Id))
                {
                    queues[dependency.Id] = inList.TryGetValue(dependency.Id, out var queue)
                        ? queue
                        : await FindQueueAsync(db, dependency.Id).ConfigureAwait(false) ?? string.Empty;
                }
            }

            inList.TryAdd(job.Id, job.Queue);
        }

        return queues;
    }

    /// <summary>
    /// The script's KEYS (the queue set first) and ARGV, but for ARGV[4] (whether the script registers the queues),
    /// ARGV[11] (a Cluster) and ARGV[12] (the mark of a part stored). remote tells which dependencies the store links on their own slots (null: none).
    /// </summary>
    private (RedisKey[] Keys, RedisValue[] Arguments, List<string> QueueNames) EnqueueAllCall(
        IReadOnlyList<NewJob> jobs, long now, BatchOperation batchOperation, Dictionary<string, string>? dependencyQueues,
        Func<NewJob, JobDependency, bool>? remote)
    {
        var queueNames = new List<string>();
        var queueNumber = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            if (queueNumber.TryAdd(job.Queue, queueNames.Count + 1))
            {
                queueNames.Add(job.Queue);
            }
        }

        var keys = new List<RedisKey>(1 + (queueNames.Count * 4)) { _keys.Queues };
        var arguments = new RedisValue[EnqueueAllHeader + (queueNames.Count * EnqueueAllPerQueue) + (jobs.Count * EnqueueAllPerJob)];
        arguments[0] = now;
        arguments[1] = _wakeUp;
        arguments[2] = queueNames.Count;
        arguments[4] = _keys.Prefix;
        arguments[5] = batchOperation.Name;
        arguments[6] = batchOperation.Id;
        arguments[7] = batchOperation.Tenant;
        arguments[8] = batchOperation.RetentionMicros;
        arguments[9] = batchOperation.Workflow;
        arguments[10] = "0";
        arguments[11] = string.Empty;
        var n = EnqueueAllHeader;
        foreach (var name in queueNames)
        {
            var queue = QueueKeys(name);
            keys.Add(queue.Pending);
            keys.Add(queue.All[2]);
            keys.Add(queue.Fair);
            keys.Add(queue.FairTurns);
            arguments[n++] = name;
            arguments[n++] = queue.JobPrefix;
            arguments[n++] = queue.TenantPrefix;
        }

        foreach (var job in jobs)
        {
            arguments[n] = queueNumber[job.Queue];
            var explicitId = !JobId.IsGenerated(job.Id);
            if (explicitId)
            {
                keys.Add(_keys.IdLookup(job.Id));
            }

            arguments[n + 1] = explicitId ? keys.Count : 0;
            if (job.UniqueKey is not null)
            {
                keys.Add(_keys.UniqueKey(job.Tenant, job.UniqueKey));
            }

            arguments[n + 2] = job.UniqueKey is null ? 0 : keys.Count;
            arguments[n + 3] = job.UniqueUntil is { } until ? RedisTime.ToMicros(until) : long.MaxValue;
            WriteJobArguments(arguments, n + 4, job, now);
            var flow = n + 4 + JobArguments;
            arguments[flow] = job.BatchId ?? string.Empty;
            arguments[flow + 1] = job.DependsOn.Count > 0 ? DependencyJson.Encode(job.DependsOn) : string.Empty;
            arguments[flow + 2] = job.DependsOn.Count > 0
                ? string.Join(',', job.DependsOn.Select(d => d.OnBatch ? string.Empty : dependencyQueues![d.Id]))
                : string.Empty;
            arguments[flow + 3] = remote is null
                ? string.Empty
                : string.Concat(job.DependsOn.Select(d => remote(job, d) ? '1' : '0'));
            n += EnqueueAllPerJob;
        }

        return ([.. keys], arguments, queueNames);
    }

    /// <summary>
    /// Whether <paramref name="job"/> is a workflow job (a continuation, a batch member) that a Redis Cluster cannot store:
    /// its unique key's holder or its id's lookup is a key of another slot than its queue, which the scripts that store it
    /// cannot reach.
    /// </summary>
    private static bool IsContinuationWithOwnKeys(NewJob job) =>
        job.HasFlow && (job.UniqueKey is not null || !JobId.IsGenerated(job.Id));

    private static ArgumentException ContinuationWithOwnKeys(NewJob job) => new(
        $"Job '{job.Id}' waits for other jobs or belongs to a batch, so on a Redis Cluster it is stored by scripts that each stay in one slot; " +
        (job.UniqueKey is not null
            ? $"it carries unique key '{job.UniqueKey}', whose holder lives on a slot of its own. "
            : "its id is of the caller's choosing (over HTTP, one derived from an Idempotency-Key), and its lookup lives on a slot of its own. ") +
        "Leave out the unique key (or the Idempotency-Key) and make the job's effects idempotent, or use a single Redis node (docs/redis.md, \"Workflows on a Cluster\").",
        "jobs");

    /// <summary>
    /// What of <paramref name="job"/> lives outside its queue's slot, for a refusal: its unique key, else its id of the
    /// caller's choosing (a generated id has no key elsewhere, so it is named only as the job's).
    /// </summary>
    private static string OwnKeysOf(NewJob job) => job.UniqueKey is not null
        ? $"job {job.Id} carries unique key '{job.UniqueKey}'"
        : $"job {job.Id} has an id of the caller's choosing (over HTTP, one derived from an Idempotency-Key)";

    /// <summary>Refuses, before anything is written, a list whose keys would span several Cluster slots.</summary>
    private void EnsureOneSlot(IReadOnlyList<NewJob> jobs, RedisKey[] keys)
    {
        var withOwnKeys = jobs.Where(j => j.UniqueKey is not null || !JobId.IsGenerated(j.Id)).Select(OwnKeysOf).ToList();
        var slots = keys.Skip(1).Select(k => _connection!.HashSlot(k)).Distinct().ToList();
        if (withOwnKeys.Count == 0 && slots.Count <= 1)
        {
            return;
        }

        var queues = jobs.Select(j => j.Queue).Distinct(StringComparer.Ordinal)
            .Select(q => string.Create(CultureInfo.InvariantCulture, $"'{q}' (slot {_connection!.HashSlot(QueueKeys(q).Pending)})"));
        if (jobs is [{ HasFlow: true }] && withOwnKeys.Count == 1)
        {
            throw ContinuationWithOwnKeys(jobs[0]);
        }

        throw new ArgumentException(
            "These jobs cannot be stored all or none on a Redis Cluster: a script must stay in one slot, so every job of the list " +
            $"must be on queues of one slot (here: {string.Join(", ", queues)}) and carry no unique key and no id of the caller's " +
            (withOwnKeys.Count == 0 ? "choosing." : $"choosing (here: {string.Join("; ", withOwnKeys)}).") +
            " Put an event's subscribers on one queue, or use a single Redis node (docs/redis.md, \"Fan-out on a Cluster\").",
            nameof(jobs));
    }
}
