using System.Globalization;
using System.Net;
using System.Runtime.ExceptionServices;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    private const int DequeuedFields = 13;

    /// <inheritdoc />
    /// <remarks>
    /// One round trip: dequeue.lua once per queue of the first pass, pipelined (a single script call when the
    /// request names one queue). A second pass, only when slots are left, asks again only the queues that gave
    /// all they were asked for, in order (after a call failed as unavailable, only those whose node answered in this
    /// dequeue, so that a frozen node is waited on once). On a Redis Cluster the queues' calls go to their primaries: when some fail as
    /// unavailable (a primary hangs or is down) and others answer, the dequeue returns what the others leased, as a
    /// <see cref="PartialDequeue"/>, and leaves the failed queues out of this store's dequeues for a while
    /// (<see cref="QueueSuspensions"/>); when every queue asked fails, it throws <see cref="JobStoreUnavailableException"/>.
    /// </remarks>
    public async ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ServerId);
        ResetWakeUp();
        if (request.Limit <= 0 || request.Queues.Count == 0)
        {
            return [];
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var nowText = RedisTime.Format(RedisTime.ToMicros(now));
            var expiresAt = now + request.LeaseDuration;
            var expiry = RedisTime.Format(RedisTime.ToMicros(expiresAt));

            var plan = new List<(string Queue, int Take)>(request.Queues.Count);
            var remaining = request.Limit;
            foreach (var quota in request.Queues)
            {
                EnsureQueueName(quota.Queue);
                var take = Math.Min(Math.Max(quota.Limit, 0), remaining);
                remaining -= take;
                plan.Add((quota.Queue, take));
            }

            var limits = request.ConcurrencyLimits.Count > 0 ? LimitArguments(request.ConcurrencyLimits) : null;
            var fair = request.FairQueues.Count > 0 ? request.FairQueues.ToDictionary(static f => f.Queue, static f => f.LastTenant ?? "", StringComparer.Ordinal) : null;
            var leased = new List<LeasedJob>(request.Limit);

            // Per queue: whether it was asked, or left out (suspended), whether it answered at least once, and how it failed.
            var answered = new bool[plan.Count];
            var failures = new Exception?[plan.Count];
            var asked = new bool[plan.Count];
            var leftOut = new bool[plan.Count];
            var generation = _suspensions.Generation;
            for (var i = 0; i < plan.Count; i++)
            {
                leftOut[i] = plan[i].Take > 0 && _suspensions.IsSuspended(plan[i].Queue);
                asked[i] = plan[i].Take > 0 && !leftOut[i];
            }

            var firstPass = new Task<RedisResult>?[plan.Count];
            IBatch? batch = asked.Count(static a => a) > 1 ? db.CreateBatch() : null;
            for (var i = 0; i < plan.Count; i++)
            {
                if (asked[i])
                {
                    firstPass[i] = EvaluateQueueAsync((IDatabaseAsync?)batch ?? db, RedisScript.Dequeue, QueueKeys(plan[i].Queue), Arguments(plan[i].Queue, plan[i].Take));
                }
            }

            batch?.Execute();

            // Every answer is read, whatever failed before it, so that no job a script leased is left unheld.
            var mayHaveMore = new bool[plan.Count];
            var failed = false;
            Exception? fault = null;
            for (var i = 0; i < plan.Count; i++)
            {
                if (firstPass[i] is not { } task)
                {
                    // A queue with no share of the first pass may have jobs for the second; a suspended one is left out.
                    mayHaveMore[i] = plan[i].Take == 0;
                    continue;
                }

                int got;
                try
                {
                    got = Read(await task.ConfigureAwait(false), plan[i].Queue, expiresAt, leased);
                }
                catch (Exception e) when (RedisFailures.IsTransient(e))
                {
                    failures[i] = e;
                    failed = true;
                    continue;
                }
                catch (Exception e)
                {
                    fault ??= e;
                    continue;
                }

                answered[i] = true;
                if (got > 0 && fair is not null && fair.ContainsKey(plan[i].Queue))
                {
                    fair[plan[i].Queue] = leased[^1].Tenant;
                }

                mayHaveMore[i] = got == plan[i].Take;
            }

            if (fault is not null)
            {
                // The jobs leased are dropped with the fault (the server's lease reconciler hands them back); the queues
                // that failed as unavailable while others answered are still suspended.
                Record();
                ExceptionDispatchInfo.Throw(fault);
            }

            // Work conserving: slots the first pass left free go to the queues, in order, that may hold more; not to a
            // queue that failed or is suspended. Once a call failed as unavailable, only queues whose node answered in
            // this dequeue are asked: a queue of the failed node would wait out the timeout again, one call at a time
            // (on one Redis, every queue), and a queue whose node was not asked yet may be on a hung node too, so it
            // waits for the next dequeue.
            EndPoint?[]? nodes = null;
            for (var i = 0; i < plan.Count && leased.Count < request.Limit; i++)
            {
                if (!mayHaveMore[i])
                {
                    continue;
                }

                if (!asked[i])
                {
                    leftOut[i] = _suspensions.IsSuspended(plan[i].Queue);
                    if (leftOut[i])
                    {
                        continue;
                    }
                }

                if (failed)
                {
                    if (!answered.Any(static a => a))
                    {
                        break;
                    }

                    if (!OnAnsweringNode(i))
                    {
                        continue;
                    }
                }

                try
                {
                    var result = await EvaluateQueueAsync(db, RedisScript.Dequeue, QueueKeys(plan[i].Queue), Arguments(plan[i].Queue, request.Limit - leased.Count)).ConfigureAwait(false);
                    Read(result, plan[i].Queue, expiresAt, leased);
                    answered[i] = true;
                }
                catch (Exception e) when (RedisFailures.IsTransient(e))
                {
                    failures[i] = e;
                    failed = true;
                }
            }

            return Settle();

            // Whether queue i's node answered a call of this dequeue. Queue i is counted as failed when its node failed
            // one: it is then suspended with the queues of its node. Only on a dequeue in which a call failed.
            bool OnAnsweringNode(int i)
            {
                var node = Node(i);
                var answering = false;
                for (var j = 0; j < plan.Count && node is not null; j++)
                {
                    if ((answered[j] || failures[j] is not null) && Equals(Node(j), node))
                    {
                        if (failures[j] is { } failure)
                        {
                            failures[i] = failure;
                            return false;
                        }

                        answering = true;
                    }
                }

                return answering;
            }

            // The primary of queue i's slot, from the client's map of the cluster (IDatabase.IdentifyEndpoint would send a
            // command, to the hung node too).
            EndPoint? Node(int i)
            {
                nodes ??= new EndPoint?[plan.Count];
                return nodes[i] ??= db.Multiplexer.GetServer(QueueKeys(plan[i].Queue).Pending, flags: CommandFlags.DemandMaster).EndPoint;
            }

            // Every queue answered: the jobs. Some failed or were left out while others answered: the jobs leased (none
            // dropped), the failed queues suspended. None answered (one queue asked, every node away, every queue
            // suspended): unavailable, as a dequeue from one Redis.
            IReadOnlyList<LeasedJob> Settle()
            {
                var first = Record();
                if (!answered.Any(static a => a))
                {
                    throw first is not null ? RedisFailures.Unavailable(first) : LeftOut();
                }

                if (first is null)
                {
                    // A queue left out may hold jobs that a call which timed out leased when its node resumed: still a
                    // partial answer, so that the server keeps looking for such leases until the queue is back.
                    return leftOut.Any(static l => l) ? new PartialDequeue(leased, LeftOut()) : leased;
                }

                return new PartialDequeue(leased, RedisFailures.Unavailable(first));
            }

            // The suspensions: a queue that answered ends its own; one that failed while another answered is suspended.
            // Returns the first failure.
            Exception? Record()
            {
                Exception? first = null;
                for (var i = 0; i < plan.Count; i++)
                {
                    if (failures[i] is { } failure)
                    {
                        first ??= failure;
                    }
                    else if (answered[i])
                    {
                        _suspensions.Succeeded(plan[i].Queue, generation);
                    }
                }

                if (first is not null && answered.Any(static a => a))
                {
                    for (var i = 0; i < plan.Count; i++)
                    {
                        if (failures[i] is { } failure)
                        {
                            _suspensions.Failed(plan[i].Queue, failure);
                        }
                    }
                }

                return first;
            }

            JobStoreUnavailableException LeftOut() => new(
                $"Redis is unavailable for {string.Join(", ", plan.Where((_, i) => leftOut[i]).Select(static p => p.Queue))}: left out of dequeues until its node answers a probe (it failed while other queues answered).");

            RedisValue[] Arguments(string queue, int take)
            {
                var limited = limits is not null && limits.TryGetValue(queue, out var queueLimits) ? queueLimits : null;
                if (fair is not null && fair.TryGetValue(queue, out var lastTenant))
                {
                    // A fair queue: the limits (none: a count of 0 and the depth), then the tenant its turn starts after.
                    return limited is not null
                        ? [take, nowText, expiry, request.ServerId, .. limited, lastTenant]
                        : [take, nowText, expiry, request.ServerId, 0, DequeueRequest.LimitedScanDepth, lastTenant];
                }

                return limited is not null ? [take, nowText, expiry, request.ServerId, .. limited] : [take, nowText, expiry, request.ServerId];
            }
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>Whether a suspended queue's node answers again (<see cref="QueueSuspensions"/>): a read of its slot that leases nothing.</summary>
    private async Task ProbeQueueAsync(string queue)
    {
        var db = await DatabaseAsync().ConfigureAwait(false);
        await db.KeyExistsAsync(QueueKeys(queue).Pending, CommandFlags.DemandMaster).ConfigureAwait(false);
    }

    /// <summary>dequeue.lua's limit arguments per queue: the count, type, per-tenant flag and maximum of each, then the scan depth.</summary>
    private static Dictionary<string, RedisValue[]> LimitArguments(IReadOnlyList<ConcurrencyLimitRule> rules)
    {
        var arguments = new Dictionary<string, RedisValue[]>(StringComparer.Ordinal);
        foreach (var queueRules in rules.GroupBy(static r => r.Queue, StringComparer.Ordinal))
        {
            var values = new List<RedisValue> { queueRules.Count() };
            foreach (var rule in queueRules)
            {
                values.Add(rule.JobType ?? "");
                values.Add(rule.PerTenant ? "1" : "0");
                values.Add(rule.Max);
            }

            values.Add(DequeueRequest.LimitedScanDepth);
            arguments[queueRules.Key] = [.. values];
        }

        return arguments;
    }

    private int Read(RedisResult result, string queue, DateTimeOffset expiresAt, List<LeasedJob> leased)
    {
        var values = (RedisValue[])result!;
        for (var i = 0; i + DequeuedFields <= values.Length; i += DequeuedFields)
        {
            leased.Add(ReadLeased(values, i, queue, expiresAt));
        }

        return values.Length / DequeuedFields;
    }

    /// <summary>One job as dequeue.lua returns it (13 entries from <paramref name="i"/>); its queue is remembered for its acknowledgement.</summary>
    private LeasedJob ReadLeased(RedisValue[] values, int i, string queue, DateTimeOffset expiresAt)
    {
        var id = (string)values[i]!;
        var created = RedisTime.Instant(values[i + 10]) ?? DateTimeOffset.UnixEpoch;
        _leasedQueues[id] = queue;
        return new LeasedJob
        {
            Id = id,
            Type = (string)values[i + 1]!,
            Queue = queue,
            Tenant = (string)values[i + 2]!,
            Payload = (byte[])values[i + 3]! ?? [],
            Attempt = int.Parse((string)values[i + 4]!, CultureInfo.InvariantCulture),
            MaxRetry = int.Parse((string)values[i + 5]!, CultureInfo.InvariantCulture),
            Timeout = RedisTime.Duration(values[i + 6]),
            Deadline = RedisTime.Instant(values[i + 7]),
            LeaseToken = long.Parse((string)values[i + 8]!, CultureInfo.InvariantCulture),
            LeaseExpiresAt = expiresAt,
            TraceParent = values[i + 9].IsNullOrEmpty ? null : (string?)values[i + 9],
            CreatedAt = created,
            EnqueuedAt = RedisTime.Instant(values[i + 11]) ?? created,
            BatchId = values[i + 12].IsNullOrEmpty ? null : (string?)values[i + 12],
        };
    }
}
