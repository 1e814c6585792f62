using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    /// <remarks>
    /// Two round trips whatever the number of queues: the queues and how many expired leases each holds, then
    /// recover.lua once per queue that has some (each given at most what it holds, so the total stays within
    /// the limit), pipelined.
    /// </remarks>
    public async ValueTask<IReadOnlyList<RecoveredJob>> RecoverExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return [];
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = NowMicros();
            var nowText = RedisTime.Format(now);
            var plan = await PlanAsync(db, limit, (batch, keys) => batch.SortedSetLengthAsync(keys.All[1], double.NegativeInfinity, now, Exclude.Stop)).ConfigureAwait(false);
            var results = await RunPlanAsync(db, plan, RedisScript.Recover, take => [nowText, take, LeaseMessages.Expired, _wakeUp]).ConfigureAwait(false);
            var recovered = new List<RecoveredJob>();
            foreach (var (queue, result) in results)
            {
                var values = (RedisValue[])result!;
                for (var i = 0; i + 4 <= values.Length; i += 4)
                {
                    var id = (string)values[i]!;
                    _leasedQueues.TryRemove(id, out _);
                    recovered.Add(new RecoveredJob(id, (string)values[i + 1]!, queue, (string)values[i + 2]!, JobStateExtensions.FromStorageName((string)values[i + 3]!)));
                }
            }

            if (recovered.Any(r => r.NewState == JobState.Pending))
            {
                SignalJobsReady();
            }

            return recovered;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Two round trips, as <see cref="RecoverExpiredLeasesAsync"/>; on a Redis Cluster, then the workflows left
    /// half-stored (one read of the journal) and a delivery of the outboxes (RedisJobStore.Outbox.cs): one pipelined
    /// read, and the entries found applied and removed.
    /// </remarks>
    public async ValueTask<int> PromoteDueAsync(int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return 0;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = NowMicros();
            var nowText = RedisTime.Format(now);
            var plan = await PlanAsync(db, limit, (batch, keys) => SumAsync(
                batch.SortedSetLengthAsync(keys.All[2], double.NegativeInfinity, now),
                batch.SortedSetLengthAsync(keys.All[3], double.NegativeInfinity, now))).ConfigureAwait(false);
            var results = await RunPlanAsync(db, plan, RedisScript.Promote, take => [nowText, take, _wakeUp]).ConfigureAwait(false);
            var promoted = results.Sum(r => (int)r.Result);
            if (!RegistersQueueInScript())
            {
                // On a Cluster, the workflows a process left half-stored, and the outboxes: what a process that died
                // between a finish and its delivery left. Asked of the connection, not of an earlier enqueue: a worker
                // process that never enqueues must deliver too.
                await FinishStoringAsync(db, now).ConfigureAwait(false);
                await DeliverOutboxesAsync(db, OutboxDeliveryBatch, remove: true).ConfigureAwait(false);
            }

            if (promoted > 0)
            {
                SignalJobsReady();
            }

            return promoted;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// One pipelined round trip after the queue names, the earliest entries of each queue's scheduled and retrying sets;
    /// another for the sets that filled the limit, while the times found fall short of it.
    /// </remarks>
    public async ValueTask<IReadOnlyList<DateTimeOffset>> ListDueTimesAsync(DateTimeOffset after, DateTimeOffset before, TimeSpan resolution, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, TimeSpan.FromMicroseconds(1));
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0 || after >= before)
        {
            return [];
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queues = await QueueNamesAsync(db).ConfigureAwait(false);
            if (queues.Length == 0)
            {
                return [];
            }

            var step = RedisTime.ToMicros(resolution);
            var last = RedisTime.ToMicros(before);
            var times = new SortedSet<long>();

            // A set read up to the limit may hold more jobs after its last: the times known in full end at the earliest
            // such set's last (rounded up), and those sets are read again from there until the limit is reached or every
            // set is read to the end.
            var sets = queues.Select(QueueKeys).SelectMany(keys => new[] { keys.All[2], keys.All[3] })
                .Select(key => (Key: key, From: RedisTime.ToMicros(after))).ToList();
            while (true)
            {
                var batch = db.CreateBatch();
                var reads = sets.Select(set => batch.SortedSetRangeByScoreWithScoresAsync(set.Key, set.From, last, Exclude.Both, Order.Ascending, 0, limit)).ToArray();
                batch.Execute();
                var entries = await Task.WhenAll(reads).ConfigureAwait(false);
                var known = long.MaxValue;
                var unfinished = new List<(RedisKey Key, long From)>();
                for (var i = 0; i < sets.Count; i++)
                {
                    foreach (var entry in entries[i])
                    {
                        times.Add(((long)entry.Score + step - 1) / step * step);
                    }

                    if (entries[i].Length == limit)
                    {
                        // Its jobs up to the end of its last time's step round to times already found.
                        var end = ((long)entries[i][^1].Score + step - 1) / step * step;
                        known = Math.Min(known, end);
                        unfinished.Add((sets[i].Key, end));
                    }
                }

                times.RemoveWhere(time => time > known);
                if (unfinished.Count == 0 || times.Count >= limit)
                {
                    return times.Take(limit).Select(RedisTime.FromMicros).ToList();
                }

                sets = unfinished;
            }
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Small, because a script blocks every other client of the Redis server while it runs: 100 jobs' hashes and
    /// index entries take well under a millisecond of Redis's time (250 held the jobs waiting behind it about
    /// 10 ms longer at p99 in the soak of bench/README.md).
    /// </remarks>
    public int PurgeBatchSize => 100;

    /// <inheritdoc />
    /// <remarks>
    /// purge.lua once per queue that has expired finished jobs, then one pipelined round trip that drops their
    /// id lookups and unique keys (which live outside the queue's slot), and one for coordination records.
    /// </remarks>
    public async ValueTask<int> PurgeExpiredAsync(int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return 0;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = NowMicros();
            var nowText = RedisTime.Format(now);
            var plan = await PlanAsync(db, limit, (batch, keys) => SumAsync(
                batch.SortedSetLengthAsync(keys.All[4], double.NegativeInfinity, now),
                batch.SortedSetLengthAsync(keys.All[5], double.NegativeInfinity, now),
                batch.SortedSetLengthAsync(keys.All[6], double.NegativeInfinity, now),
                batch.SortedSetLengthAsync(keys.All[7], double.NegativeInfinity, now))).ConfigureAwait(false);
            var results = await RunPlanAsync(db, plan, RedisScript.Purge, take => [nowText, take]).ConfigureAwait(false);

            var deleted = 0;
            var cleanup = new DeletedJobsCleanup(this, db);
            foreach (var (queue, result) in results)
            {
                var values = (RedisValue[])result!;
                for (var i = 0; i + 4 <= values.Length; i += 4)
                {
                    deleted++;
                    cleanup.Forget(queue, (string)values[i]!, (string?)values[i + 1], (string?)values[i + 2], (string?)values[i + 3]);
                }
            }

            cleanup.Add(EvaluateAsync(
                cleanup.Batch,
                RedisScript.PurgeCoordination,
                [_keys.IdempotencyRecords, _keys.IdempotencyExpiries, _keys.Locks, _keys.LockExpiries, _keys.Servers, _keys.ServerExpiries, _keys.RateLimiters, _keys.BatchExpiries, _keys.EveryTenantBatchListing],
                [nowText, limit, _keys.BatchPrefix, _keys.BatchListingPrefix]));
            await cleanup.ExecuteAsync().ConfigureAwait(false);
            return deleted;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// Counts the work waiting in every queue (one pipelined round trip) and shares the limit out in queue order,
    /// each queue getting at most what it holds.
    /// </summary>
    private async Task<List<(string Queue, int Take)>> PlanAsync(IDatabase db, int limit, Func<IDatabaseAsync, RedisKeys.QueueKeys, Task<long>> count)
    {
        var queues = await QueueNamesAsync(db).ConfigureAwait(false);
        var plan = new List<(string, int)>();
        if (queues.Length == 0)
        {
            return plan;
        }

        var batch = db.CreateBatch();
        var counts = queues.Select(q => count(batch, QueueKeys(q))).ToArray();
        batch.Execute();
        var remaining = limit;
        for (var i = 0; i < queues.Length && remaining > 0; i++)
        {
            var take = (int)Math.Min(await counts[i].ConfigureAwait(false), remaining);
            if (take > 0)
            {
                plan.Add((queues[i], take));
                remaining -= take;
            }
        }

        return plan;
    }

    // Every command is queued on the batch before anything awaits it: a batch sends nothing until Execute.
    private static async Task<long> SumAsync(params Task<long>[] counts) => (await Task.WhenAll(counts).ConfigureAwait(false)).Sum();

    private async Task<List<(string Queue, RedisResult Result)>> RunPlanAsync(IDatabase db, List<(string Queue, int Take)> plan, RedisScript script, Func<int, RedisValue[]> arguments)
    {
        var results = new List<(string, RedisResult)>(plan.Count);
        if (plan.Count == 0)
        {
            return results;
        }

        var batch = db.CreateBatch();
        var tasks = plan.Select(p => EvaluateQueueAsync(batch, script, QueueKeys(p.Queue), arguments(p.Take))).ToArray();
        batch.Execute();
        for (var i = 0; i < plan.Count; i++)
        {
            results.Add((plan[i].Queue, await tasks[i].ConfigureAwait(false)));
        }

        return results;
    }
}
