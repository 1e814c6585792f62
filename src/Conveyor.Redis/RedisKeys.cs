using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// Every Redis key and channel name the store uses, in one place. Lua scripts never build a key name
/// themselves except from the prefixes given here (job hashes and tenant indexes, per id and tenant).
/// </summary>
/// <remarks>
/// Every key of one queue carries the queue's hash tag (<c>{queue}</c>), so that a queue lives on one Redis
/// Cluster slot and each queue script touches one slot:
/// <code>
/// {p}:{queue}:pending              list of ids, LPUSH in, RPOP out (FIFO)
/// {p}:{queue}:active               zset id → lease expiry (µs)
/// {p}:{queue}:scheduled|retrying   zset id → due (µs)
/// {p}:{queue}:succeeded|partial|failed|cancelled   zset id → retention expiry (µs)
/// {p}:{queue}:finished:succeeded zset id → completed-at (µs): the count cap's order (succeeded)
/// {p}:{queue}:finished:unsuccessful   zset id → completed-at (µs): the same for partial, failed and cancelled
/// {p}:{queue}:paused               flag
/// {p}:{queue}:fair                 flag: the queue is fair (set by its fair dequeues, cleared when no lane is left)
/// {p}:{queue}:lanes:               zset of the tenants whose lane holds jobs ('' for the pending list), all scores 0
/// {p}:{queue}:lanes:{tenant}       list of ids, a fair queue's tenant's pending jobs (LPUSH in, RPOP out)
/// {p}:{queue}:leaseseq             counter of lease tokens
/// {p}:{queue}:j:{id}               job hash
/// {p}:{queue}:j:{id}#s             the job's durable steps: name → ord:attempt:completed-at:result ('' counts them)
/// {p}:{queue}:t:{tenant}           zset id → created-at (µs): the tenant's listing
/// {p}:{queue}:t:                   set of the tenants with jobs in the queue (an operator's every-tenant listing)
/// {p}:{queue}:waiting              zset id → created-at (µs): workflow jobs waiting for others (no dequeue reads it)
/// {p}:{queue}:j:{id}#d             list: the jobs waiting for this one (Scripts/flow.lib.lua)
/// {p}:{queue}:j:{id}#r             set: on a Cluster, the dependencies a waiting job has heard of through an outbox
/// {p}:{queue}:outbox               list: on a Cluster, outcomes this slot's finishes send to other slots
/// {p}:{queue}:stored:{id}          flag (a day): on a Cluster, this slot's part of workflow {id} is stored
/// </code>
/// Keys that no single queue owns live outside the queue slots:
/// <code>
/// {p}:ix:{id}                      the job id lookup: the queue of the job (ids are unique across queues)
/// {p}:uq:{tenant}:{key}            the unique key's holder: queue, id, unique-until, created-at
/// {p}:queues                       set of queue names ever used
/// {p}:upgrades                     hash of the one-time upgrades done (e.g. tenant-sets)
/// {p}:{{p}:coord}:…                locks, idempotency records, servers, rate limiters and the limit definitions
///                                  (hash kind\nname → source digit and JSON), on one slot of their own; batches:
///                                  b:{id} hash, b:{id}#d callbacks, b:{id}#m unfinished members, b:{id}#g generations of members that rejoined it from another slot, bexp expiries,
///                                  bt:{tenant} the tenant's batches by creation (their listing), ba every tenant's
///                                  batches by creation (an operator's listing),
///                                  outbox (on a Cluster: batch callbacks' outcomes for the queues' slots),
///                                  storing zset and storing:{id} hashes (on a Cluster: workflows being stored)
/// {p}:{{p}:sched}:defs|next|hist|rev   schedules (one slot of their own): hash tenant\nname → definition JSON,
///                                  zset tenant\nname → next tick (µs, unpaused only), hash → created|last fire|last job,
///                                  hash → revision (random at a create, +1 at every write)
/// </code>
/// </remarks>
internal sealed class RedisKeys
{
    private readonly string _prefix;
    private readonly string _coordination;

    public RedisKeys(string prefix)
    {
        _prefix = prefix;
        _coordination = $"{prefix}:{{{prefix}:coord}}:";
        Queues = new RedisKey($"{prefix}:queues");
        Upgrades = new RedisKey($"{prefix}:upgrades");
        Locks = new RedisKey(_coordination + "locks");
        LockExpiries = new RedisKey(_coordination + "lockexp");
        IdempotencyRecords = new RedisKey(_coordination + "idemrec");
        IdempotencyExpiries = new RedisKey(_coordination + "idemexp");
        Servers = new RedisKey(_coordination + "servers");
        ServerExpiries = new RedisKey(_coordination + "serverexp");
        RateLimiters = new RedisKey(_coordination + "rate");
        LimitDefinitions = new RedisKey(_coordination + "limits");
        BatchPrefix = _coordination + "b:";
        BatchExpiries = new RedisKey(_coordination + "bexp");
        BatchListingPrefix = _coordination + "bt:";
        EveryTenantBatchListing = new RedisKey(_coordination + "ba");
        Outbox = new RedisKey(_coordination + "outbox");
        StoringDue = new RedisKey(_coordination + "storing");
        var schedules = $"{prefix}:{{{prefix}:sched}}:";
        ScheduleDefinitions = new RedisKey(schedules + "defs");
        ScheduleNextTicks = new RedisKey(schedules + "next");
        ScheduleHistory = new RedisKey(schedules + "hist");
        ScheduleRevisions = new RedisKey(schedules + "rev");
        NotifyChannel = RedisChannel.Literal($"{prefix}:notify");
        CancelChannel = RedisChannel.Literal($"{prefix}:cancel");
    }

    public string Prefix => _prefix;

    public RedisKey Queues { get; }

    /// <summary>Hash: the one-time upgrades of keys written by earlier versions that are done (step name → 1).</summary>
    public RedisKey Upgrades { get; }

    public RedisKey Locks { get; }

    public RedisKey LockExpiries { get; }

    /// <summary>Hash: idempotency key → its record (JSON: state, owner job and lease token, expiry, finish time).</summary>
    public RedisKey IdempotencyRecords { get; }

    /// <summary>Sorted set: idempotency key → its record's expiry (µs), for the purge.</summary>
    public RedisKey IdempotencyExpiries { get; }

    public RedisKey Servers { get; }

    public RedisKey ServerExpiries { get; }

    /// <summary>Sorted set: rate limiter key → its theoretical arrival time (µs); one that has passed holds nothing.</summary>
    public RedisKey RateLimiters { get; }

    /// <summary>Hash: kind\nname → the limit's source digit (0 configuration, 1 API) followed by its definition JSON.</summary>
    public RedisKey LimitDefinitions { get; }

    /// <summary>A batch hash's key without its id (Scripts/flow.lib.lua builds the same names).</summary>
    public string BatchPrefix { get; }

    /// <summary>Sorted set: finished batch id → its record's expiry (µs), for the purge.</summary>
    public RedisKey BatchExpiries { get; }

    /// <summary>A tenant's batch listing's key without the tenant (Scripts/flow.lib.lua builds the same names).</summary>
    public string BatchListingPrefix { get; }

    /// <summary>Sorted set: the tenant's batch ids → created-at (µs), all of them until purged: their listing, newest first.</summary>
    public RedisKey BatchListing(string tenant) => new(BatchListingPrefix + tenant);

    /// <summary>Every tenant's batches by creation (zset id → created-at µs): an operator's listing.</summary>
    public RedisKey EveryTenantBatchListing { get; }

    /// <summary>Hash: a batch's tenant, state, counts and times (Scripts/flow.lib.lua); "#d" its callbacks, "#m" its unfinished members, "#g" the generations of members that rejoined it from another slot.</summary>
    public RedisKey Batch(string batchId) => new(BatchPrefix + batchId);

    /// <summary>On a Redis Cluster, the coordination slot's outbox: batch callbacks' outcomes for their queues' slots.</summary>
    public RedisKey Outbox { get; }

    /// <summary>On a Redis Cluster, the workflows being stored across slots: zset id → when another store may finish it.</summary>
    public RedisKey StoringDue { get; }

    /// <summary>The plan of a workflow being stored across slots (hash: p plan, s stage reached).</summary>
    public RedisKey Storing(string id) => new((string)StoringDue! + ":" + id);

    public RedisKey ScheduleDefinitions { get; }

    public RedisKey ScheduleNextTicks { get; }

    public RedisKey ScheduleHistory { get; }

    /// <summary>Each schedule's revision (hash: member → revision, drawn at random at a create and advanced at every write; none, read as 0, for a schedule created before revisions).</summary>
    public RedisKey ScheduleRevisions { get; }

    /// <summary>The four schedule keys, as the schedule scripts take them.</summary>
    public RedisKey[] Schedules => [ScheduleDefinitions, ScheduleNextTicks, ScheduleHistory, ScheduleRevisions];

    /// <summary>Published (empty message) when a job becomes pending: idle workers in every process wake.</summary>
    public RedisChannel NotifyChannel { get; }

    /// <summary>Published (the job id) when a running job's cancellation is requested.</summary>
    public RedisChannel CancelChannel { get; }

    public RedisKey IdLookup(string jobId) => new($"{_prefix}:ix:{jobId}");

    public RedisKey UniqueKey(string tenant, string uniqueKey) => new($"{_prefix}:uq:{tenant}:{uniqueKey}");

    /// <summary>The start of every key of the queue, tag included.</summary>
    public string QueueBase(string queue) => $"{_prefix}:{{{queue}}}:";

    public QueueKeys ForQueue(string queue) => new(queue, QueueBase(queue), Queues);

    /// <summary>One queue's keys in the order the queue scripts take them as KEYS (Scripts/queue.lib.lua).</summary>
    internal sealed class QueueKeys
    {
        public QueueKeys(string queue, string queueBase, RedisKey queueSet)
        {
            Queue = queue;
            Pending = queueBase + "pending";
            All =
            [
                Pending,
                queueBase + "active",
                queueBase + "scheduled",
                queueBase + "retrying",
                queueBase + "succeeded",
                queueBase + "partial",
                queueBase + "failed",
                queueBase + "cancelled",
                queueBase + "paused",
                queueBase + "leaseseq",
                queueBase + "finished:succeeded",
                queueBase + "finished:unsuccessful",
                queueBase + "fair",
                queueBase + "lanes:",
            ];
            AllAndQueueSet = [.. All, queueSet];
            JobPrefix = queueBase + "j:";
            TenantPrefix = queueBase + "t:";
            Paused = All[8];
            Fair = All[12];
            FairTurns = All[13];
            Outbox = queueBase + "outbox";
        }

        /// <summary>On a Redis Cluster, this slot's outbox: outcomes for dependants and batches on other slots (flow.lib.lua).</summary>
        public RedisKey Outbox { get; }

        /// <summary>On a Redis Cluster, the mark that this slot's part of the workflow being stored as id is stored.</summary>
        public RedisKey Stored(string id) => new(((string)Outbox!)[..^"outbox".Length] + "stored:" + id);

        public string Queue { get; }

        public RedisKey Pending { get; }

        public RedisKey Paused { get; }

        /// <summary>Set while the queue is fair: a job that becomes pending goes to its tenant's lane.</summary>
        public RedisKey Fair { get; }

        /// <summary>The tenants whose lane holds jobs (zset, byte order); also the prefix of each lane's list.</summary>
        public RedisKey FairTurns { get; }

        public RedisKey Lane(string tenant) => new((string)FairTurns! + tenant);

        /// <summary>KEYS of every queue script.</summary>
        public RedisKey[] All { get; }

        /// <summary>
        /// <see cref="All"/> and the set of queue names: enqueue.lua registers the queue itself when every key is
        /// on one node (not in a Cluster, where the set lives in another slot).
        /// </summary>
        public RedisKey[] AllAndQueueSet { get; }

        /// <summary>ARGV[1] of every queue script.</summary>
        public RedisValue JobPrefix { get; }

        /// <summary>ARGV[2] of every queue script.</summary>
        public RedisValue TenantPrefix { get; }

        public RedisKey Job(string jobId) => new((string)JobPrefix! + jobId);

        /// <summary>The job's durable steps, deleted with the job hash by every script that deletes it.</summary>
        public RedisKey Steps(string jobId) => new((string)JobPrefix! + jobId + "#s");

        public RedisKey TenantIndex(string tenant) => new((string)TenantPrefix! + tenant);

        /// <summary>The set of tenants with a listing in the queue: the tenant prefix itself (no tenant name is empty).</summary>
        public RedisKey Tenants => new((string)TenantPrefix!);
    }
}
