using System.Globalization;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    // A large batch is cut into script calls of bounded size, so that no single call holds Redis for long.
    private const int MaxJobsPerEnqueueCall = 500;
    private const long MaxBytesPerEnqueueCall = 4 * 1024 * 1024;

    /// <inheritdoc />
    public async ValueTask<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.UniqueKey is not null || !JobId.IsGenerated(job.Id) || job.HasFlow)
        {
            var results = await EnqueueManyAsync([job], cancellationToken).ConfigureAwait(false);
            return results[0];
        }

        EnsureValid(job);
        try
        {
            if (_replication.AnyShort)
            {
                await EnsureWritableAsync([job]).ConfigureAwait(false);
            }

            var connectionChanges = _replication.ConnectionChanges;
            var result = await EnqueueGeneratedAsync(await DatabaseAsync().ConfigureAwait(false), job).ConfigureAwait(false);
            if (_replication.Enabled)
            {
                await EnsureReplicatedAsync([job], connectionChanges).ConfigureAwait(false);
            }

            return result;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// The common single enqueue (a generated id, no unique key) as one script call: a generated id needs no
    /// claim and no lookup key, and on a single node the script registers the queue too. Every enqueue pays this path, so it
    /// allocates only the call's arguments.
    /// </summary>
    private async Task<EnqueueResult> EnqueueGeneratedAsync(IDatabase db, NewJob job)
    {
        var now = NowMicros();
        var queue = QueueKeys(job.Queue);
        var registerInScript = RegistersQueueInScript();
        // In a Cluster the queue set lives in another slot. The first write of a queue is awaited with the script's: a
        // lookup by generated id finds the job only through a queue named in that set.
        var register = registerInScript ? null : RegisterQueue(db, job.Queue);

        var arguments = new RedisValue[2 + EnqueueHeader + JobArguments];
        arguments[0] = queue.JobPrefix;
        arguments[1] = queue.TenantPrefix;
        WriteEnqueueHeader(arguments, 2, now, registerInScript ? job.Queue : string.Empty);
        WriteJobArguments(arguments, 2 + EnqueueHeader, job, now);
        var result = await EvaluateAsync(db, RedisScript.Enqueue, registerInScript ? queue.AllAndQueueSet : queue.All, arguments).ConfigureAwait(false);
        if (register is not null)
        {
            await register.ConfigureAwait(false);
        }

        var stored = (RedisValue[])result!;
        if ((int)stored[0] != 0)
        {
            return new EnqueueResult(EnqueueOutcome.DuplicateId, job.Id, JobStateExtensions.FromStorageName((string)stored[1]!), job.Queue, RedisTime.Instant(stored[2]) ?? DateTimeOffset.UnixEpoch);
        }

        var state = StateOf(job, now);
        if (state == JobState.Pending)
        {
            SignalJobsReady();
        }

        return new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, state, job.Queue, RedisTime.FromMicros(now));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Jobs go in one pipelined round trip. A job with a unique key or a workflow (dependencies, a batch), or whose
    /// id repeats an earlier one of the batch, is stored on its own after the jobs before it, so that it sees them.
    /// </remarks>
    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        foreach (var job in jobs)
        {
            EnsureValid(job);
        }

        try
        {
            await EnsureWritableAsync(jobs).ConfigureAwait(false);
            var connectionChanges = _replication.ConnectionChanges;
            var db = await DatabaseAsync().ConfigureAwait(false);

            // Refused before the jobs ahead of it are stored: a caller that retries the others alone (the Jobs API's
            // group commit) would otherwise find them stored already.
            if (!RegistersQueueInScript() && jobs.FirstOrDefault(IsContinuationWithOwnKeys) is { } refused)
            {
                throw ContinuationWithOwnKeys(refused);
            }

            var now = NowMicros();
            var results = new EnqueueResult[jobs.Count];
            var batch = new List<int>();
            var idsInBatch = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < jobs.Count; i++)
            {
                var job = jobs[i];
                if (job.UniqueKey is null && !job.HasFlow && idsInBatch.Add(job.Id))
                {
                    batch.Add(i);
                    continue;
                }

                await StoreAsync(db, jobs, batch, results, now).ConfigureAwait(false);
                batch.Clear();
                idsInBatch.Clear();
                if (job.HasFlow)
                {
                    results[i] = await EnqueueFlowAsync(db, job).ConfigureAwait(false);
                }
                else if (job.UniqueKey is null)
                {
                    batch.Add(i);
                    idsInBatch.Add(job.Id);
                }
                else
                {
                    results[i] = await EnqueueUniqueAsync(db, job, i, jobs, results, now).ConfigureAwait(false);
                }
            }

            await StoreAsync(db, jobs, batch, results, now).ConfigureAwait(false);
            await EnsureReplicatedAsync(jobs, connectionChanges).ConfigureAwait(false);
            return results;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    private static void EnsureValid(NewJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!JobId.IsValid(job.Id))
        {
            throw new ArgumentException($"Job id '{job.Id}' is not valid.", nameof(job));
        }

        EnsureQueueName(job.Queue);

        // The shape of a key segment only, '.' and '..' included: the client refuses those for new jobs; this store does
        // not decide which tenants are allowed, only which keys it can write.
        if (!QueueName.IsValid(job.Tenant))
        {
            throw new ArgumentException($"Tenant '{job.Tenant}' is not valid.", nameof(job));
        }
    }

    /// <summary>
    /// Stores jobs in one round trip: enqueue.lua stores a queue's jobs in one call. A caller-chosen id may exist
    /// in another queue, so it first claims the id in the global lookup, in a round trip of its own, with a mark that
    /// holds the id while the job is being stored, and replaces the mark with the queue after storing, in one more.
    /// </summary>
    private async Task StoreAsync(IDatabase db, IReadOnlyList<NewJob> jobs, List<int> indexes, EnqueueResult?[] results, long now)
    {
        if (indexes.Count == 0)
        {
            return;
        }

        var refused = new Dictionary<int, EnqueueResult>();
        List<int>? heldAlready = null;
        List<(int Index, string Mark)>? marked = null;
        var explicitIds = indexes.Where(i => !JobId.IsGenerated(jobs[i].Id)).ToList();
        if (explicitIds.Count > 0)
        {
            // The call's own time may be long past: the jobs ahead of these in the list were stored first, one unique
            // key or workflow at a time. A mark held from it could be out of date before it is written.
            var claimedAt = NowMicros();
            var claims = new Dictionary<int, (string Mark, Task<RedisResult> Holder)>();
            var claimBatch = db.CreateBatch();
            foreach (var i in explicitIds)
            {
                var mark = ClaimMark(jobs[i].Queue, claimedAt);
                claims[i] = (mark, EvaluateAsync(claimBatch, RedisScript.ClaimId, [_keys.IdLookup(jobs[i].Id)], [mark]));
            }

            claimBatch.Execute();
            foreach (var (i, (mark, claim)) in claims)
            {
                var settled = await SettleClaimAsync(db, jobs[i], mark, (string?)await claim.ConfigureAwait(false), claimedAt).ConfigureAwait(false);
                if (settled.Refusal is { } refusal)
                {
                    refused[i] = refusal;
                    continue;
                }

                if (settled.HeldAlready)
                {
                    (heldAlready ??= []).Add(i);
                }

                if (settled.Mark is { } left)
                {
                    (marked ??= []).Add((i, left));
                }
            }
        }

        // One enqueue.lua call per queue (and per chunk of a large batch) for all its jobs, in batch order.
        var batch = db.CreateBatch();
        var tasks = new List<Task>();
        var calls = new List<(List<int> Indexes, Task<RedisResult> Result)>();
        foreach (var group in indexes.Where(i => !refused.ContainsKey(i)).GroupBy(i => jobs[i].Queue, StringComparer.Ordinal))
        {
            var queue = QueueKeys(group.Key);
            var registerInScript = RegistersQueueInScript();
            if (!registerInScript && RegisterQueue(batch, group.Key) is { } register)
            {
                tasks.Add(register);
            }

            var keys = registerInScript ? queue.AllAndQueueSet : queue.All;
            var chunk = new List<int>();
            long chunkBytes = 0;
            foreach (var i in group)
            {
                // A generated id (128 random bits) cannot collide and needs no claim: lookups by id find its
                // queue by probing the queues (FindQueueAsync), so it costs no key of its own.
                var job = jobs[i];
                chunk.Add(i);
                chunkBytes += job.Payload.Length;
                if (chunk.Count >= MaxJobsPerEnqueueCall || chunkBytes >= MaxBytesPerEnqueueCall)
                {
                    calls.Add((chunk, EvaluateAsync(batch, RedisScript.Enqueue, keys, EnqueueArguments(queue, jobs, chunk, now, registerInScript))));
                    chunk = [];
                    chunkBytes = 0;
                }
            }

            if (chunk.Count > 0)
            {
                calls.Add((chunk, EvaluateAsync(batch, RedisScript.Enqueue, keys, EnqueueArguments(queue, jobs, chunk, now, registerInScript))));
            }
        }

        batch.Execute();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        foreach (var (i, duplicate) in refused)
        {
            results[i] = duplicate;
        }

        var anyPending = false;
        foreach (var (chunk, call) in calls)
        {
            var stored = (RedisValue[])(await call.ConfigureAwait(false))!;
            for (var k = 0; k < chunk.Count; k++)
            {
                var job = jobs[chunk[k]];
                if ((int)stored[k * 3] == 0)
                {
                    var state = StateOf(job, now);
                    anyPending |= state == JobState.Pending;
                    results[chunk[k]] = new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, state, job.Queue, RedisTime.FromMicros(now));
                }
                else
                {
                    results[chunk[k]] = new EnqueueResult(EnqueueOutcome.DuplicateId, job.Id, JobStateExtensions.FromStorageName((string)stored[(k * 3) + 1]!), job.Queue, RedisTime.Instant(stored[(k * 3) + 2]) ?? DateTimeOffset.UnixEpoch);
                }
            }
        }

        if (marked is not null || heldAlready is not null)
        {
            await CompleteLookupsAsync(db, jobs, marked, heldAlready?.Where(i => results[i]!.Outcome == EnqueueOutcome.Enqueued)).ConfigureAwait(false);
        }

        if (anyPending)
        {
            SignalJobsReady();
        }
    }

    /// <summary>What the claim of a caller-chosen id came to.</summary>
    /// <param name="Refusal">The job that holds the id in another queue, stored or being stored: this one is refused.</param>
    /// <param name="Mark">An in-progress mark left in the lookup, which the lookup's entry replaces after the store.</param>
    /// <param name="HeldAlready">The lookup named the job's own queue already (enqueue.lua tells whether the id is free there).</param>
    private readonly record struct IdClaim(EnqueueResult? Refusal, string? Mark, bool HeldAlready);

    /// <summary>
    /// Settles the claim of a job's caller-chosen id, given the lookup claim_id.lua found (null: it wrote the job's mark).
    /// A lookup naming another queue refuses the job while that queue holds the id, or while that lookup is a mark within
    /// its held-until (<see cref="ClaimMarkLifetime"/>): its job is being stored (the lookup and the job live on different
    /// slots, so no script can claim and store at once). Any other lookup is taken over.
    /// </summary>
    private async Task<IdClaim> SettleClaimAsync(IDatabase db, NewJob job, string mark, string? holder, long now)
    {
        var key = _keys.IdLookup(job.Id);
        for (var attempt = 0; ; attempt++)
        {
            if (holder is null)
            {
                return new IdClaim(null, mark, false);
            }

            var (queue, inProgress) = ReadLookup(holder);
            if (queue == job.Queue)
            {
                return new IdClaim(null, inProgress is null ? null : holder, true);
            }

            if (await ExistingJobAsync(db, job.Id, queue, queue).ConfigureAwait(false) is { } existing)
            {
                return new IdClaim(existing, null, false);
            }

            if (inProgress is { } other && other.HeldUntil > now)
            {
                return new IdClaim(new EnqueueResult(EnqueueOutcome.DuplicateId, job.Id, JobState.Pending, queue, RedisTime.FromMicros(other.ClaimedAt)), null, false);
            }

            // The lookup names a queue without the job: left by an enqueue that did not finish, or by a delete whose
            // clean-up has not run yet. Take it over; if it changed meanwhile, read it again.
            if ((int)await EvaluateAsync(db, RedisScript.CompareAndSet, [key], [holder, mark]).ConfigureAwait(false) == 1)
            {
                return new IdClaim(null, mark, false);
            }

            if (attempt >= 10)
            {
                throw new JobStoreUnavailableException($"The job id '{job.Id}' changed hands too often to be claimed.");
            }

            holder = (string?)await EvaluateAsync(db, RedisScript.ClaimId, [key], [mark]).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the store, in one pipelined round trip: each in-progress mark becomes the lookup's entry (the queue alone,
    /// whatever the store's outcome: the queue holds the id either way), and the lookups of stored jobs that the claim
    /// found held already are written back where none is left (<see cref="KeepLookupsAsync"/>).
    /// </summary>
    private async Task CompleteLookupsAsync(IDatabase db, IReadOnlyList<NewJob> jobs, List<(int Index, string Mark)>? marked, IEnumerable<int>? stored)
    {
        var batch = db.CreateBatch();
        var writes = new List<Task>();
        foreach (var (i, mark) in marked ?? [])
        {
            writes.Add(EvaluateAsync(batch, RedisScript.CompareAndSet, [_keys.IdLookup(jobs[i].Id)], [mark, jobs[i].Queue]));
        }

        foreach (var i in stored ?? [])
        {
            writes.Add(batch.StringSetAsync(_keys.IdLookup(jobs[i].Id), jobs[i].Queue, when: When.NotExists));
        }

        if (writes.Count > 0)
        {
            batch.Execute();
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stores a job with a unique key: claims the key (held while its holder is unfinished and its unique-until
    /// has not passed), stores the job, and gives the key back if the job was refused.
    /// </summary>
    private async Task<EnqueueResult> EnqueueUniqueAsync(IDatabase db, NewJob job, int index, IReadOnlyList<NewJob> jobs, EnqueueResult?[] results, long now)
    {
        var key = _keys.UniqueKey(job.Tenant, job.UniqueKey!);
        var until = job.UniqueUntil is { } u ? RedisTime.ToMicros(u) : long.MaxValue;
        var holderPrefix = $"{job.Queue}\t{job.Id}\t";
        var claim = UniqueClaim(job.Queue, job.Id, until.ToString(CultureInfo.InvariantCulture), now.ToString(CultureInfo.InvariantCulture));
        for (var attempt = 0; ; attempt++)
        {
            var current = await db.StringGetAsync(key).ConfigureAwait(false);
            if (!current.IsNullOrEmpty)
            {
                var parts = ((string)current!).Split('\t');
                if (parts.Length == 4 && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var holderUntil) && holderUntil > now)
                {
                    var holder = await ExistingJobAsync(db, parts[1], parts[0], parts[0]).ConfigureAwait(false);
                    if (holder is not null && parts[1] == job.Id)
                    {
                        // The job itself holds the key (a repeat of its create, the idempotent create's above all): the id
                        // is refused first, as the contract orders the two and the other stores answer.
                        return holder;
                    }

                    if (holder is null && parts[1] != job.Id)
                    {
                        // The holder is being stored right now (or its enqueue never finished): the key stays held until its unique-until.
                        _ = long.TryParse(parts[3], CultureInfo.InvariantCulture, out var created);
                        return await ExistingIdAsync(db, job).ConfigureAwait(false)
                            ?? new EnqueueResult(EnqueueOutcome.DuplicateUniqueKey, parts[1], JobState.Pending, parts[0], RedisTime.FromMicros(created));
                    }

                    if (holder is not null && !holder.State.IsFinished())
                    {
                        return await ExistingIdAsync(db, job).ConfigureAwait(false) ?? holder with { Outcome = EnqueueOutcome.DuplicateUniqueKey };
                    }
                }
            }

            var swapped = await EvaluateAsync(db, RedisScript.CompareAndSet, [key], [current.IsNull ? RedisValue.EmptyString : current, claim]).ConfigureAwait(false);
            if ((int)swapped == 1)
            {
                break;
            }

            if (attempt >= 10)
            {
                throw new JobStoreUnavailableException($"The unique key '{job.UniqueKey}' changed hands too often to be claimed.");
            }
        }

        await StoreAsync(db, jobs, [index], results, now).ConfigureAwait(false);
        var result = results[index]!;
        if (result.Outcome != EnqueueOutcome.Enqueued)
        {
            // A concurrent repeat of the same job (same id and key) takes the key over from that job's own claim while the
            // job is being stored, and its claim may even be the same string (same queue, id, unique-until and time):
            // deleting it would free the key of the stored job. It goes back to that job's exact claim, the one its
            // delete or purge drops.
            var holder = result.Outcome == EnqueueOutcome.DuplicateId ? await StoredClaimAsync(db, job, result.Queue).ConfigureAwait(false) : null;
            await (holder is null
                ? EvaluateAsync(db, RedisScript.CompareAndDelete, [key], [claim])
                : EvaluateAsync(db, RedisScript.CompareAndSet, [key], [claim, holder])).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// The job that already has this job's id, as a duplicate-id result, or null: asked only of a job whose unique key
    /// is held, since a job refused for both reasons reports its id (as enqueue_all.lua's refusal and the other stores do).
    /// </summary>
    private async Task<EnqueueResult?> ExistingIdAsync(IDatabase db, NewJob job)
    {
        if (await ExistingJobAsync(db, job.Id, job.Queue, job.Queue).ConfigureAwait(false) is { } own)
        {
            return own;
        }

        if (JobId.IsGenerated(job.Id))
        {
            return null;
        }

        var lookup = await db.StringGetAsync(_keys.IdLookup(job.Id)).ConfigureAwait(false);
        var queue = lookup.IsNullOrEmpty ? null : ReadLookup((string)lookup!).Queue;
        return queue is null || queue == job.Queue ? null : await ExistingJobAsync(db, job.Id, queue, queue).ConfigureAwait(false);
    }

    /// <summary>
    /// The claim on the job's unique key that the stored job of its id wrote (queue.lib.lua's unique_claim), or null when
    /// that job does not have this key.
    /// </summary>
    private async Task<string?> StoredClaimAsync(IDatabase db, NewJob job, string queue)
    {
        var values = await db.HashGetAsync(QueueKeys(queue).Job(job.Id), ["tn", "uk", "uu", "c"]).ConfigureAwait(false);
        return values[0] == job.Tenant && values[1] == job.UniqueKey && !values[3].IsNullOrEmpty
            ? UniqueClaim(queue, job.Id, values[2].IsNullOrEmpty ? long.MaxValue.ToString(CultureInfo.InvariantCulture) : (string)values[2]!, (string)values[3]!)
            : null;
    }

    /// <summary>A job's claim on its unique key, "queue\tid\tunique-until\tcreated-at" (queue.lib.lua's unique_claim).</summary>
    private static string UniqueClaim(string queue, string jobId, string until, string created) => $"{queue}\t{jobId}\t{until}\t{created}";

    /// <summary>The job as a duplicate-id result, or null when it does not exist.</summary>
    private async Task<EnqueueResult?> ExistingJobAsync(IDatabaseAsync db, string jobId, string queue, string reportedQueue)
    {
        var values = await db.HashGetAsync(QueueKeys(queue).Job(jobId), ["st", "c"]).ConfigureAwait(false);
        if (values[0].IsNullOrEmpty)
        {
            return null;
        }

        JobState state;
        try
        {
            state = JobStateExtensions.FromStorageName((string)values[0]!);
        }
        catch (FormatException)
        {
            state = JobState.Failed;
        }

        return new EnqueueResult(EnqueueOutcome.DuplicateId, jobId, state, reportedQueue, RedisTime.Instant(values[1]) ?? DateTimeOffset.UnixEpoch);
    }

    private static JobState StateOf(NewJob job, long now) =>
        job.ProcessAt is { } at && RedisTime.ToMicros(at) > now ? JobState.Scheduled : JobState.Pending;

    // enqueue.lua's ARGV after the queue prefixes: now, wake-up, queue name to register; then each job's 13.
    private const int EnqueueHeader = 3;
    private const int JobArguments = 13;

    private RedisValue[] EnqueueArguments(RedisKeys.QueueKeys queue, IReadOnlyList<NewJob> jobs, List<int> chunk, long now, bool registerInScript)
    {
        var arguments = new RedisValue[2 + EnqueueHeader + (chunk.Count * JobArguments)];
        arguments[0] = queue.JobPrefix;
        arguments[1] = queue.TenantPrefix;
        WriteEnqueueHeader(arguments, 2, now, registerInScript ? queue.Queue : string.Empty);
        var n = 2 + EnqueueHeader;
        foreach (var i in chunk)
        {
            WriteJobArguments(arguments, n, jobs[i], now);
            n += JobArguments;
        }

        return arguments;
    }

    private void WriteEnqueueHeader(RedisValue[] arguments, int n, long now, string queueToRegister)
    {
        arguments[n] = now;
        arguments[n + 1] = _wakeUp;
        arguments[n + 2] = queueToRegister;
    }

    private static void WriteJobArguments(RedisValue[] arguments, int n, NewJob job, long now)
    {
        arguments[n++] = job.Id;
        arguments[n++] = job.DependsOn.Count > 0 ? "waiting" : StateOf(job, now).ToStorageName();
        arguments[n++] = RedisTime.Value(job.ProcessAt);
        arguments[n++] = job.Type;
        arguments[n++] = job.Tenant;
        arguments[n++] = job.Payload;
        arguments[n++] = job.MaxRetry;
        arguments[n++] = RedisTime.Value(job.Timeout);
        arguments[n++] = RedisTime.Value(job.Deadline);
        arguments[n++] = job.UniqueKey ?? string.Empty;
        arguments[n++] = job.UniqueKey is null ? RedisValue.EmptyString : RedisTime.Value(job.UniqueUntil);
        arguments[n++] = RetentionField(job);
        arguments[n] = job.TraceParent ?? string.Empty;
    }

    // One number when every outcome keeps the job as long (the smallest hash field), else succeeded:failed:cancelled
    // in µs, which queue.lib.lua's retention_for reads when the job finishes.
    private static RedisValue RetentionField(NewJob job)
    {
        var succeeded = RedisTime.ToMicros(job.Retention);
        var failed = RedisTime.ToMicros(job.FailedRetention ?? job.Retention);
        var cancelled = RedisTime.ToMicros(job.CancelledRetention ?? job.Retention);
        return failed == succeeded && cancelled == succeeded
            ? succeeded
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{succeeded}:{failed}:{cancelled}");
    }
}
