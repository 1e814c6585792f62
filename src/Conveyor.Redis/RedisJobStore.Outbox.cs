using Conveyor.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <remarks>
/// Workflows across Redis Cluster slots (ARCHITECTURE.md, "Workflows", Redis Cluster). A script stays on one slot, so
/// what a finish must change on another slot (a dependant on another queue's slot, a batch on the coordination slot)
/// is appended by the finishing script to the outbox of its own slot, in the same call (Scripts/flow.lib.lua), and
/// delivered afterwards: outbox_apply.lua applies each entry on its slot, idempotently, then the entry is removed. A
/// delivery runs right after the finish (the script publishes 'outbox' on the wake-up channel; every process of the
/// store hears it) and at each promoter tick, so an entry left by a process that died is delivered by another.
/// Storing a workflow or batch across slots writes the receiving side first (the batch with its members, the
/// dependants waiting and counting their dependencies), then links each dependency on its own slot (flow_link.lua).
/// </remarks>
public sealed partial class RedisJobStore
{
    // What flow.lib.lua publishes on the wake-up channel when it wrote an outbox entry.
    private const string OutboxNotice = "outbox";

    // Entries one delivery reads from each outbox.
    private const int OutboxDeliveryBatch = 500;

    // 0 idle, 1 delivering; _deliverAgain is set by every notice, so one that arrives during a delivery runs another.
    private int _delivering;
    private int _deliverAgain;

    /// <summary>How long a workflow being stored across slots is left to its process before another store finishes it.</summary>
    internal static TimeSpan StoringGrace => TimeSpan.FromSeconds(30);

    /// <summary>False to leave outboxes to explicit deliveries (tests that stop a delivery half-way).</summary>
    internal bool DeliversOutboxesOnNotice { get; set; } = true;

    /// <summary>
    /// A stage (1: the batches' side written, 2: the jobs too) after which storing across slots stops, as if its process
    /// died, or (3: the links too) at which the journal's end fails, as in a failover (tests). With
    /// <see cref="StopsStoringAsInFailover"/>, stages 1 and 2 (and 0: the journal written, its reply lost) fail as in a
    /// failover instead.
    /// </summary>
    internal int? StopStoringAfterStage { get; set; }

    /// <summary>True for <see cref="StopStoringAfterStage"/> to fail with a transient error (a dropped connection), not a crash.</summary>
    internal bool StopsStoringAsInFailover { get; set; }

    /// <summary>
    /// Delivers what the outboxes hold (at most <paramref name="limit"/> entries from each): each entry applied on its
    /// slot, then (when <paramref name="remove"/>; false stands for a process that dies between the two steps) removed.
    /// Returns how many entries changed something (an entry applied before changes nothing).
    /// </summary>
    internal async Task<int> DeliverOutboxesAsync(int limit, bool remove = true)
    {
        var db = await DatabaseAsync().ConfigureAwait(false);
        return await DeliverOutboxesAsync(db, limit, remove).ConfigureAwait(false);
    }

    private async Task<int> DeliverOutboxesAsync(IDatabase db, int limit, bool remove)
    {
        var outboxes = (await QueueNamesAsync(db).ConfigureAwait(false)).Select(q => QueueKeys(q).Outbox).Append(_keys.Outbox).ToArray();
        var read = db.CreateBatch();
        var reads = outboxes.Select(o => read.ListRangeAsync(o, 0, limit - 1)).ToArray();
        read.Execute();
        var now = RedisTime.Format(NowMicros());
        var applying = db.CreateBatch();
        var applied = new List<(RedisKey Outbox, RedisValue Entry, Task<RedisResult> Result)>();
        var removing = new List<(RedisKey Outbox, RedisValue Entry)>();
        for (var i = 0; i < outboxes.Length; i++)
        {
            foreach (var entry in await reads[i].ConfigureAwait(false))
            {
                if (OutboxTarget((string)entry!) is { } target)
                {
                    applied.Add((outboxes[i], entry, EvaluateAsync(applying, RedisScript.OutboxApply, [target], [_keys.Prefix, now, entry])));
                }
                else
                {
                    // Not an entry this version writes: kept out of the way of the others, never applied.
                    removing.Add((outboxes[i], entry));
                }
            }
        }

        applying.Execute();
        var changed = 0;
        foreach (var (outbox, entry, result) in applied)
        {
            changed += (int)await result.ConfigureAwait(false);
            removing.Add((outbox, entry));
        }

        if (remove && removing.Count > 0)
        {
            var removal = db.CreateBatch();
            var removed = removing.Select(r => removal.ListRemoveAsync(r.Outbox, r.Entry, 1)).ToArray();
            removal.Execute();
            await Task.WhenAll(removed).ConfigureAwait(false);
        }

        return changed;
    }

    /// <summary>A key of the slot an outbox entry applies on: the dependant's hash ("d…") or the batch's ("c…", a member's end; "u…", a member's rejoining).</summary>
    private RedisKey? OutboxTarget(string entry)
    {
        // A dependency's entry ends with when it finished, unless written before entries carried it.
        if (entry.StartsWith("d\t", StringComparison.Ordinal) && entry.Split('\t') is { Length: 7 or 8 } d)
        {
            return QueueKeys(d[5]).Job(d[6]);
        }

        if ((entry.StartsWith("c\t", StringComparison.Ordinal) || entry.StartsWith("u\t", StringComparison.Ordinal)) && entry.Split('\t') is { Length: >= 5 } c)
        {
            return _keys.Batch(c[1]);
        }

        return null;
    }

    /// <summary>
    /// Runs a delivery soon, off the caller's thread (a pub/sub notice, or a link that found its dependency finished);
    /// notices during a delivery make one more. A failed delivery is left to the next notice or promoter tick.
    /// </summary>
    private void DeliverOutboxesSoon()
    {
        if (!DeliversOutboxesOnNotice)
        {
            return;
        }

        Volatile.Write(ref _deliverAgain, 1);
        if (Interlocked.CompareExchange(ref _delivering, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _deliverAgain, 0) == 1)
                {
                    await DeliverOutboxesAsync(OutboxDeliveryBatch).ConfigureAwait(false);
                }
            }
#pragma warning disable CA1031 // The entries stay in their outboxes: the promoter's tick delivers them.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            finally
            {
                Volatile.Write(ref _delivering, 0);
            }

            if (Volatile.Read(ref _deliverAgain) == 1)
            {
                DeliverOutboxesSoon();
            }
        });
    }

    /// <summary>
    /// Whether storing these jobs on a Cluster reaches beyond their slot: a batch (on the coordination slot), a
    /// dependency on a batch, or a dependency on a job of a queue of another slot.
    /// </summary>
    private bool CrossesSlots(IReadOnlyList<NewJob> jobs, BatchOperation batchOperation, Dictionary<string, string>? dependencyQueues) =>
        batchOperation.Name.Length > 0 || jobs.Any(j => j.BatchId is not null || j.DependsOn.Any(d => IsRemote(j, d, dependencyQueues!)));

    private bool IsRemote(NewJob job, JobDependency dependency, Dictionary<string, string> dependencyQueues) =>
        dependency.OnBatch
        || (dependencyQueues.TryGetValue(dependency.Id, out var queue) && queue.Length > 0
            && _connection!.HashSlot(QueueKeys(queue).Pending) != _connection.HashSlot(QueueKeys(job.Queue).Pending));

    /// <summary>
    /// Stores a batch or a workflow whose jobs and dependencies span Cluster slots, slot by slot: every refusal is
    /// decided by reads before the first write; then the batch with its members (batch_join.lua), then each slot's jobs
    /// (enqueue_all.lua: a job with a dependency on another slot is stored waiting, counting it), then each such
    /// dependency is linked on its own slot (flow_link.lua), which sends a dependency that already finished through the
    /// outbox at once. Null when the batch to add to is not the tenant's or no longer runs.
    /// </summary>
    private async Task<EnqueueAllResult?> StoreAcrossSlotsAsync(
        IDatabase db, IReadOnlyList<NewJob> jobs, BatchOperation batchOperation, Dictionary<string, string>? dependencyQueues, long now, long connectionChanges)
    {
        var withOwnKeys = jobs.Where(j => j.UniqueKey is not null || !JobId.IsGenerated(j.Id)).Select(OwnKeysOf).ToList();
        if (withOwnKeys.Count > 0)
        {
            // A batch or a workflow comes here even with every job on one queue (its record is on the coordination slot):
            // the message says which of the two cases this is, not "across slots" for both.
            var which = batchOperation.Name.Length > 0
                ? "the jobs of a batch or of a workflow (even all on one queue: its record lives on a slot of its own)"
                : "jobs that wait for a job or a batch on another slot";
            throw new ArgumentException(
                $"On a Redis Cluster {which} cannot carry a unique key or an id of the caller's choosing " +
                $"(here: {string.Join("; ", withOwnKeys)}): those keys live on slots of their own, out of reach of the scripts that store the jobs. " +
                "Let the store choose the ids and leave out unique keys (over HTTP: no Idempotency-Key and no unique_key), or use a single Redis node (docs/redis.md, \"Workflows on a Cluster\").",
                nameof(jobs));
        }

        var queues = dependencyQueues ?? new Dictionary<string, string>(StringComparer.Ordinal);
        if (await RefuseAcrossSlotsAsync(db, jobs, batchOperation, queues, now).ConfigureAwait(false) is { } refusal)
        {
            return refusal.Result;
        }

        // The plan: the batches' side first, so that a member's finish always finds itself counted in; then each
        // slot's jobs, stored by one script each, the dependants waiting; then every dependency on another slot,
        // linked on its own slot. Journaled first, so that a store finishes it if this process dies half-way.
        var storingId = Guid.NewGuid().ToString("N");
        var joins = jobs.Where(j => j.BatchId is not null && j.BatchId != batchOperation.Id).GroupBy(j => j.BatchId!, StringComparer.Ordinal)
            .Select(g => (Operation: new BatchOperation("join", g.Key, g.First().Tenant), Members: g.ToList())).ToList();
        if (batchOperation.Name.Length > 0)
        {
            joins.Insert(0, (batchOperation, jobs.Where(j => j.BatchId == batchOperation.Id).ToList()));
        }

        var groups = jobs.Select((job, index) => (Job: job, Index: index))
            .GroupBy(x => _connection!.HashSlot(QueueKeys(x.Job.Queue).Pending)).Select(g => g.ToList()).ToList();
        var plan = new StoringPlan();
        foreach (var (operation, members) in joins)
        {
            plan.Joins.Add(new PlannedCall(
                RedisScript.BatchJoin,
                [_keys.Batch(operation.Id), _keys.BatchListing(operation.Tenant)],
                [operation.Name, operation.Tenant, operation.RetentionMicros, operation.Workflow, now, operation.Id, .. members.Select(m => (RedisValue)$"{m.Queue}\t{m.Id}")]));
        }

        foreach (var group in groups)
        {
            var (keys, arguments, _) = EnqueueAllCall([.. group.Select(x => x.Job)], now, BatchOperation.None, queues, (job, dependency) => IsRemote(job, dependency, queues));
            arguments[3] = "0";
            arguments[10] = "1";
            arguments[11] = (string)QueueKeys(group[0].Job.Queue).Stored(storingId)!;
            keys[0] = keys[1];
            plan.Groups.Add(new PlannedCall(RedisScript.EnqueueAll, keys, arguments));
        }

        foreach (var job in jobs)
        {
            foreach (var dependency in job.DependsOn.Where(d => IsRemote(job, d, queues)))
            {
                var code = dependency.FailsDependant ? 2 : dependency.SuccessOnly ? 1 : 0;
                var queue = dependency.OnBatch ? string.Empty : queues[dependency.Id];
                plan.Links.Add(new PlannedCall(
                    RedisScript.FlowLink,
                    [dependency.OnBatch ? _keys.Batch(dependency.Id) : QueueKeys(queue).Job(dependency.Id)],
                    [_keys.Prefix, dependency.OnBatch ? "b" : "j", dependency.Id, queue, $"{code}\t{job.Queue}\t{job.Id}"]));
            }
        }

        var journal = _keys.Storing(storingId);
        var begin = db.CreateTransaction();
        _ = begin.HashSetAsync(journal, [new HashEntry("p", plan.Encode()), new HashEntry("s", 1)]);
        _ = begin.SortedSetAddAsync(_keys.StoringDue, storingId, now + RedisTime.ToMicros(StoringGrace));
        try
        {
            await begin.ExecuteAsync().ConfigureAwait(false);

            // With WaitForReplicas, the journal is what decides the storing, so it must be on the replicas first.
            await EnsureReplicatedAsync([journal], connectionChanges).ConfigureAwait(false);
            StopStoringIfAsked(0);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e) || e is JobStoreUnavailableException)
        {
            // The journal may stand with its reply lost, and a promoter would store the whole plan after the grace
            // while the caller hears that nothing may be: dropped, so the 503 stays true (docs/redis.md names the
            // window left when the drop fails too).
            await QuietlyAsync(EndStoringAsync(db, storingId)).ConfigureAwait(false);
            throw;
        }

        // From here the storing is decided: a promoter carries the plan out if this call does not.
        var register = Task.WhenAll(jobs.Select(j => j.Queue).Distinct(StringComparer.Ordinal).Select(q => db.SetAddAsync(_keys.Queues, q)));
        var states = new JobState?[jobs.Count];
        try
        {
            return await RunPlanAsync(db, jobs, joins, groups, plan, storingId, register, states, now, connectionChanges).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e) || e is JobStoreUnavailableException)
        {
            // A failover or a timeout half-way. Answering "unavailable" would invite a second batch (on a Cluster these
            // calls take no Idempotency-Key) while a promoter stores this one: the call answers stored, and the journal
            // is made due now (best effort; else after the grace), so the next promoter tick of any server (every
            // PromoteInterval, 1 s by default) finishes it. The states are those the scripts answered, or the ones the
            // plan stores the other jobs in.
            await QuietlyAsync(register).ConfigureAwait(false);
            await QuietlyAsync(db.SortedSetAddAsync(_keys.StoringDue, storingId, now)).ConfigureAwait(false);
            LogStoringLeftToPromoter(_logger, e, jobs.Count, storingId, (int)StoringGrace.TotalSeconds);
            return Stored(jobs, states, now);
        }
    }

    /// <summary>
    /// The plan's three stages, after its journal: the refusals they can still meet (a batch created or stopped, a
    /// dependency deleted, since the reads) end the storing; a transient failure is the caller's to handle.
    /// </summary>
    private async Task<EnqueueAllResult?> RunPlanAsync(
        IDatabase db,
        IReadOnlyList<NewJob> jobs,
        List<(BatchOperation Operation, List<NewJob> Members)> joins,
        List<List<(NewJob Job, int Index)>> groups,
        StoringPlan plan,
        string storingId,
        Task register,
        JobState?[] states,
        long now,
        long connectionChanges)
    {
        var journal = _keys.Storing(storingId);
        for (var b = 0; b < joins.Count; b++)
        {
            var joined = (int)await EvaluateAsync(db, plan.Joins[b].Script, plan.Joins[b].Keys, plan.Joins[b].Arguments).ConfigureAwait(false);
            var (operation, members) = joins[b];
            if (joined != 0)
            {
                await EndRefusedStoringAsync(db, storingId).ConfigureAwait(false);
                await register.ConfigureAwait(false);
                return joined switch
                {
                    3 => throw new ArgumentException($"A batch with id '{operation.Id}' exists.", "batch"),
                    _ when operation.Name == "join" => EnqueueAllResult.Refused(IndexOf(jobs, members[0]), NotFound(members[0], operation.Id, now)),
                    _ => null,
                };
            }
        }

        StopStoringIfAsked(1);
        await db.HashSetAsync(journal, "s", 2).ConfigureAwait(false);
        var stored = plan.Groups.Select(call => EvaluateAsync(db, call.Script, call.Keys, call.Arguments)).ToList();
        await register.ConfigureAwait(false);
        for (var g = 0; g < groups.Count; g++)
        {
            var reply = (RedisValue[])(await stored[g].ConfigureAwait(false))!;
            var members = groups[g];
            if ((int)reply[0] != 0)
            {
                // A dependency deleted after the reads above: what is stored stays (see ARCHITECTURE.md).
                await EndRefusedStoringAsync(db, storingId).ConfigureAwait(false);
                var job = members[(int)reply[1]];
                return EnqueueAllResult.Refused(job.Index, NotFound(job.Job, (string)reply[3]!, now));
            }

            for (var i = 0; i < members.Count; i++)
            {
                states[members[i].Index] = JobStateExtensions.FromStorageName((string)reply[i + 1]!);
            }
        }

        StopStoringIfAsked(2);
        if (await LinkAsync(db, plan.Links).ConfigureAwait(false))
        {
            DeliverOutboxesSoon();
        }

        // With WaitForReplicas, every part on the replicas before the journal goes: one missing leaves the journal, which a
        // promoter carries out again (every step of it is safe to run again), and the call answers stored, as below.
        await EnsureReplicatedAsync(written: null, connectionChanges).ConfigureAwait(false);

        // Everything is stored. An end refused by an outage (a failover's EXECABORT) leaves the journal, which a promoter
        // finishes after the grace, every step of it done already. The caller hears that its jobs are stored, not a 503
        // saying they may be, which invites a second batch (on a Cluster a batch takes no Idempotency-Key).
        try
        {
            StopStoringIfAsked(3);
            await EndStoringAsync(db, storingId).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
        }

        return Stored(jobs, states, now);
    }

    /// <summary>
    /// The answer of a storing decided: each job stored, in the state its script answered, or (a slot's part not stored
    /// yet) the one the plan stores it in, as enqueue_all.lua does before linking: waiting for a job with dependencies,
    /// scheduled for a later run, else pending.
    /// </summary>
    private EnqueueAllResult Stored(IReadOnlyList<NewJob> jobs, JobState?[] states, long now)
    {
        var results = new EnqueueResult[jobs.Count];
        var anyPending = false;
        for (var i = 0; i < jobs.Count; i++)
        {
            var state = states[i] ?? (jobs[i].DependsOn.Count > 0 ? JobState.Waiting : StateOf(jobs[i], now));
            anyPending |= states[i] == JobState.Pending;
            results[i] = new EnqueueResult(EnqueueOutcome.Enqueued, jobs[i].Id, state, jobs[i].Queue, RedisTime.FromMicros(now));
        }

        if (anyPending)
        {
            SignalJobsReady();
        }

        return EnqueueAllResult.Stored(results);
    }

    /// <summary>Awaits a best-effort call whose failure changes nothing for the caller (what it leaves is said where it is called).</summary>
    private static async Task QuietlyAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Best effort: the promoter's grace covers a failed call.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Runs the links (pipelined); true when one sent a finished dependency's outcome to an outbox.</summary>
    private async Task<bool> LinkAsync(IDatabase db, List<PlannedCall> links)
    {
        var linking = db.CreateBatch();
        var tasks = links.Select(call => EvaluateAsync(linking, call.Script, call.Keys, call.Arguments)).ToList();
        linking.Execute();
        var outboxed = false;
        foreach (var link in tasks)
        {
            outboxed |= (int)await link.ConfigureAwait(false) == 1;
        }

        return outboxed;
    }

    private async Task EndStoringAsync(IDatabase db, string storingId)
    {
        var end = db.CreateTransaction();
        _ = end.KeyDeleteAsync(_keys.Storing(storingId));
        _ = end.SortedSetRemoveAsync(_keys.StoringDue, storingId);
        await end.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Drops the journal of a storing refused half-way. A drop refused by an outage leaves the journal to a promoter,
    /// which stores what the refusal did not stop: the caller hears "unavailable" (not the refusal, not "stored").
    /// </summary>
    private async Task EndRefusedStoringAsync(IDatabase db, string storingId)
    {
        try
        {
            await EndStoringAsync(db, storingId).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    private void StopStoringIfAsked(int stage)
    {
        if (StopStoringAfterStage == stage)
        {
            throw stage == 3
                ? new RedisServerException("EXECABORT Transaction discarded because of previous errors (as a test asked).")
                : StopsStoringAsInFailover
                ? new RedisConnectionException(ConnectionFailureType.SocketFailure, $"Storing failed over after stage {stage}, as a test asked.")
                : new InvalidOperationException($"Storing stopped after stage {stage}, as a test asked.");
        }
    }

    /// <summary>
    /// Finishes the workflows whose storing across slots a process left half-done (its journal still there after
    /// <see cref="StoringGrace"/>), as it would have: every step is safe to run again. The batches' side only while no
    /// job was written (stage 1: batch_join.lua counts a member once, and no member has finished yet); each slot's jobs
    /// unless their mark says they are stored; every link (a second link of the same dependant is applied once, by the
    /// dependant's set of resolved dependencies). Returns how many it finished.
    /// </summary>
    private async Task<int> FinishStoringAsync(IDatabase db, long now)
    {
        var due = await db.SortedSetRangeByScoreAsync(_keys.StoringDue, double.NegativeInfinity, now, take: 10).ConfigureAwait(false);
        var finished = 0;
        foreach (var value in due)
        {
            var storingId = (string)value!;
            var journal = await db.HashGetAsync(_keys.Storing(storingId), ["p", "s"]).ConfigureAwait(false);
            if (journal[0].IsNull)
            {
                await db.SortedSetRemoveAsync(_keys.StoringDue, storingId).ConfigureAwait(false);
                continue;
            }

            // Not again at the next tick while this one works on it.
            await db.SortedSetAddAsync(_keys.StoringDue, storingId, now + RedisTime.ToMicros(StoringGrace)).ConfigureAwait(false);
            var plan = StoringPlan.Decode((byte[])journal[0]!);
            if ((int)journal[1] <= 1)
            {
                foreach (var call in plan.Joins)
                {
                    await EvaluateAsync(db, call.Script, call.Keys, call.Arguments).ConfigureAwait(false);
                }

                await db.HashSetAsync(_keys.Storing(storingId), "s", 2).ConfigureAwait(false);
            }

            // The queues' registration may have failed with the call that left the journal (a failover): again, a set.
            var queues = plan.Groups
                .SelectMany(call => Enumerable.Range(0, (int)call.Arguments[2]).Select(q => call.Arguments[EnqueueAllHeader + (q * EnqueueAllPerQueue)]))
                .Distinct().ToArray();
            if (queues.Length > 0)
            {
                await db.SetAddAsync(_keys.Queues, queues).ConfigureAwait(false);
            }

            foreach (var call in plan.Groups)
            {
                if (!await db.KeyExistsAsync((string)call.Arguments[11]!).ConfigureAwait(false))
                {
                    await EvaluateAsync(db, call.Script, call.Keys, call.Arguments).ConfigureAwait(false);
                }
            }

            await LinkAsync(db, plan.Links).ConfigureAwait(false);
            await EndStoringAsync(db, storingId).ConfigureAwait(false);
            finished++;
        }

        return finished;
    }

    /// <summary>
    /// What enqueue_all.lua refuses on one node, decided by reads before anything is written: the batch to create
    /// exists (thrown), the batch to add to is not running (a null result), a batch or dependency the tenant does not
    /// have, or a batch a job names that no longer runs (the first such job in list order). batch_join.lua does not
    /// check the last again: a join it refused after an earlier one of the plan was counted would leave that count.
    /// </summary>
    private async Task<(EnqueueAllResult? Result, bool Refused)?> RefuseAcrossSlotsAsync(
        IDatabase db, IReadOnlyList<NewJob> jobs, BatchOperation batchOperation, Dictionary<string, string> queues, long now)
    {
        var read = db.CreateBatch();
        var owners = new Dictionary<RedisKey, Task<RedisValue>>();
        Task<RedisValue> Owner(RedisKey key)
        {
            if (!owners.TryGetValue(key, out var owner))
            {
                owner = read.HashGetAsync(key, "tn");
                owners[key] = owner;
            }

            return owner;
        }

        var state = batchOperation.Name == "add" ? read.HashGetAsync(_keys.Batch(batchOperation.Id), "st") : null;
        var joinedStates = new Dictionary<string, Task<RedisValue>>(StringComparer.Ordinal);
        var plan = new List<(int Index, string Id, Task<RedisValue> Owner, Task<RedisValue>? State)>();
        var earlier = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.BatchId is { } batch && (batchOperation.Name.Length == 0 || batch != batchOperation.Id))
            {
                if (!joinedStates.TryGetValue(batch, out var joinedState))
                {
                    joinedState = read.HashGetAsync(_keys.Batch(batch), "st");
                    joinedStates[batch] = joinedState;
                }

                plan.Add((i, batch, Owner(_keys.Batch(batch)), joinedState));
            }

            foreach (var dependency in job.DependsOn)
            {
                if (dependency.OnBatch)
                {
                    if (!(batchOperation.Name == "create" && dependency.Id == batchOperation.Id))
                    {
                        plan.Add((i, dependency.Id, Owner(_keys.Batch(dependency.Id)), null));
                    }
                }
                else if (!earlier.Contains(dependency.Id))
                {
                    plan.Add((i, dependency.Id, queues.TryGetValue(dependency.Id, out var queue) && queue.Length > 0
                        ? Owner(QueueKeys(queue).Job(dependency.Id))
                        : Task.FromResult(RedisValue.Null), null));
                }
            }

            earlier.Add(job.Id);
        }

        var exists = batchOperation.Name.Length > 0 ? Owner(_keys.Batch(batchOperation.Id)) : null;
        read.Execute();
        if (exists is not null)
        {
            var owner = await exists.ConfigureAwait(false);
            if (batchOperation.Name == "create" && !owner.IsNull)
            {
                throw new ArgumentException($"A batch with id '{batchOperation.Id}' exists.", "batch");
            }

            if (batchOperation.Name == "add" && (owner != batchOperation.Tenant || await state!.ConfigureAwait(false) != "running"))
            {
                return (null, true);
            }
        }

        foreach (var (index, id, owner, joined) in plan)
        {
            if (await owner.ConfigureAwait(false) != jobs[index].Tenant || (joined is not null && await joined.ConfigureAwait(false) != "running"))
            {
                return (EnqueueAllResult.Refused(index, NotFound(jobs[index], id, now)), true);
            }
        }

        return null;
    }

    private static int IndexOf(IReadOnlyList<NewJob> jobs, NewJob job)
    {
        for (var i = 0; i < jobs.Count; i++)
        {
            if (ReferenceEquals(jobs[i], job))
            {
                return i;
            }
        }

        return 0;
    }

    /// <summary>One script call of a plan to store across slots.</summary>
    private sealed record PlannedCall(RedisScript Script, RedisKey[] Keys, RedisValue[] Arguments);

    /// <summary>The calls that store a workflow across slots, in their three stages, and their journal's encoding.</summary>
    private sealed class StoringPlan
    {
        public List<PlannedCall> Joins { get; } = [];

        public List<PlannedCall> Groups { get; } = [];

        public List<PlannedCall> Links { get; } = [];

        public byte[] Encode()
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream))
            {
                foreach (var stage in new[] { Joins, Groups, Links })
                {
                    writer.Write(stage.Count);
                    foreach (var call in stage)
                    {
                        writer.Write(call.Script.Name);
                        writer.Write(call.Keys.Length);
                        foreach (var key in call.Keys)
                        {
                            writer.Write((string)key!);
                        }

                        writer.Write(call.Arguments.Length);
                        foreach (var argument in call.Arguments)
                        {
                            var bytes = (byte[]?)argument ?? [];
                            writer.Write(bytes.Length);
                            writer.Write(bytes);
                        }
                    }
                }
            }

            return stream.ToArray();
        }

        public static StoringPlan Decode(byte[] encoded)
        {
            var plan = new StoringPlan();
            using var reader = new BinaryReader(new MemoryStream(encoded));
            foreach (var stage in new[] { plan.Joins, plan.Groups, plan.Links })
            {
                var calls = reader.ReadInt32();
                for (var c = 0; c < calls; c++)
                {
                    var name = reader.ReadString();
                    var script = RedisScript.All.First(s => s.Name == name);
                    var keys = new RedisKey[reader.ReadInt32()];
                    for (var k = 0; k < keys.Length; k++)
                    {
                        keys[k] = reader.ReadString();
                    }

                    var arguments = new RedisValue[reader.ReadInt32()];
                    for (var a = 0; a < arguments.Length; a++)
                    {
                        arguments[a] = reader.ReadBytes(reader.ReadInt32());
                    }

                    stage.Add(new PlannedCall(script, keys, arguments));
                }
            }

            return plan;
        }
    }

    [LoggerMessage(913, LogLevel.Warning, "Storing {count} jobs across Redis Cluster slots was cut by an outage after its plan was journaled (storing {storing_id}): answered stored, and left to the promoter of any server, which finishes it at its next tick once Redis answers (or after {grace_s} s)")]
    private static partial void LogStoringLeftToPromoter(ILogger logger, Exception error, int count, string storing_id, int grace_s);

    private static EnqueueResult NotFound(NewJob job, string absent, long now) =>
        new(EnqueueOutcome.DependencyNotFound, absent, JobState.Waiting, job.Queue, RedisTime.FromMicros(now));
}
