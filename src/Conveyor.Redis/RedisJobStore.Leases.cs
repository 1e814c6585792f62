using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    private const string LeaseExpiredMessage = "The lease expired: the worker died or lost the store.";
    private const string LeaseExpiredPastDeadlineMessage = "The lease expired (the worker died or lost the store) and the job's deadline has passed.";

    /// <inheritdoc />
    /// <remarks>One round trip: acknowledge.lua once per queue, pipelined.</remarks>
    public async ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        if (acknowledgements.Count == 0)
        {
            return 0;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var byQueue = await GroupByQueueAsync(db, acknowledgements, a => a.JobId).ConfigureAwait(false);
            var now = RedisTime.Format(NowMicros());
            var settlements = acknowledgements.Count(a => a.IdempotencyKey is not null);
            var batch = byQueue.Count + settlements > 1 ? db.CreateBatch() : null;
            var tasks = new List<Task<RedisResult>>(byQueue.Count);
            var settled = new List<Task<RedisResult>>(settlements);
            foreach (var ack in acknowledgements)
            {
                if (ack.IdempotencyKey is not null)
                {
                    // Same round trip, but the records' slot, not the queue's: not atomic with the acknowledgement,
                    // which the compare-and-set on the record's owner does not need.
                    settled.Add(SettleIdempotencyKeyAsync((IDatabaseAsync?)batch ?? db, ack));
                }
            }

            foreach (var (queue, acks) in byQueue)
            {
                var arguments = new RedisValue[2 + (acks.Count * 10)];
                arguments[0] = now;
                arguments[1] = _wakeUp;
                var n = 2;
                foreach (var ack in acks)
                {
                    arguments[n++] = ack.JobId;
                    arguments[n++] = ack.LeaseToken;
                    arguments[n++] = (int)ack.Outcome;
                    arguments[n++] = RedisTime.Value(ack.Outcome == AckOutcome.Snoozed ? ack.SnoozeUntil ?? _time.GetUtcNow() : ack.RetryAt);
                    arguments[n++] = ack.Error is null ? string.Empty : JobErrorJson.Write(ack.Error);
                    arguments[n++] = JobErrorJson.WriteMany(ack.ItemErrors);
                    arguments[n++] = ack.Result.HasValue ? "1" : "0";
                    arguments[n++] = ack.Result is { } result ? result.ToArray() : RedisValue.EmptyString;
                    arguments[n++] = ack.ResultUrl ?? string.Empty;
                    arguments[n++] = ack.Outcome == AckOutcome.Snoozed ? ack.SnoozeReason ?? string.Empty : string.Empty;
                }

                tasks.Add(EvaluateQueueAsync((IDatabaseAsync?)batch ?? db, RedisScript.Acknowledge, QueueKeys(queue), arguments));
            }

            batch?.Execute();
            var applied = 0;
            foreach (var task in tasks)
            {
                applied += (int)await task.ConfigureAwait(false);
            }

            await Task.WhenAll(settled).ConfigureAwait(false);

            if (applied > 0 && acknowledgements.Any(a => a.Outcome == AckOutcome.Released))
            {
                SignalJobsReady();
            }

            foreach (var ack in acknowledgements)
            {
                _leasedQueues.TryRemove(ack.JobId, out _);
            }

            return applied;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    /// <remarks>One round trip: extend_leases.lua once per queue, pipelined.</remarks>
    public async ValueTask<LeaseExtension> ExtendLeasesAsync(ExtendLeasesRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Leases.Count == 0)
        {
            return LeaseExtension.None;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var lost = new List<string>();
            var byQueue = await GroupByQueueAsync(db, request.Leases, l => l.JobId, lost).ConfigureAwait(false);
            var expiry = RedisTime.Format(RedisTime.ToMicros(_time.GetUtcNow() + request.LeaseDuration));
            var batch = byQueue.Count > 1 ? db.CreateBatch() : null;
            var tasks = new List<(List<LeaseRef> Leases, Task<RedisResult> Result)>(byQueue.Count);
            foreach (var (queue, leases) in byQueue)
            {
                var arguments = new RedisValue[1 + (leases.Count * 2)];
                arguments[0] = expiry;
                var n = 1;
                foreach (var lease in leases)
                {
                    arguments[n++] = lease.JobId;
                    arguments[n++] = lease.LeaseToken;
                }

                tasks.Add((leases, EvaluateQueueAsync((IDatabaseAsync?)batch ?? db, RedisScript.ExtendLeases, QueueKeys(queue), arguments)));
            }

            batch?.Execute();
            var cancelRequested = new List<string>();
            foreach (var (leases, task) in tasks)
            {
                var outcomes = (int[])(await task.ConfigureAwait(false))!;
                for (var i = 0; i < leases.Count; i++)
                {
                    switch (outcomes[i])
                    {
                        case 0:
                            lost.Add(leases[i].JobId);
                            _leasedQueues.TryRemove(leases[i].JobId, out _);
                            break;
                        case 2:
                            cancelRequested.Add(leases[i].JobId);
                            break;
                    }
                }
            }

            return lost.Count == 0 && cancelRequested.Count == 0 ? LeaseExtension.None : new LeaseExtension(lost, cancelRequested);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ReportProgressAsync(string jobId, long leaseToken, int progress, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(progress, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(progress, 100);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queue = _leasedQueues.TryGetValue(jobId, out var known) ? known : await FindQueueAsync(db, jobId).ConfigureAwait(false);
            if (queue is null)
            {
                return false;
            }

            var result = await EvaluateQueueAsync(db, RedisScript.ReportProgress, QueueKeys(queue), jobId, leaseToken, progress, RedisTime.Format(NowMicros())).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// Groups items by their job's queue: known from this instance's leases, else from the id lookup (one
    /// pipelined round trip for all the unknown ones). Ids without a job go to <paramref name="missing"/>.
    /// </summary>
    private async Task<Dictionary<string, List<T>>> GroupByQueueAsync<T>(IDatabase db, IReadOnlyList<T> items, Func<T, string> idOf, List<string>? missing = null)
    {
        var groups = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        List<(T Item, Task<string?> Queue)>? lookups = null;
        foreach (var item in items)
        {
            var id = idOf(item);
            if (_leasedQueues.TryGetValue(id, out var queue))
            {
                Add(groups, queue, item);
            }
            else
            {
                lookups ??= [];
                lookups.Add((item, FindQueueAsync(db, id)));
            }
        }

        if (lookups is not null)
        {
            foreach (var (item, lookup) in lookups)
            {
                if (await lookup.ConfigureAwait(false) is { } queue)
                {
                    Add(groups, queue, item);
                }
                else
                {
                    missing?.Add(idOf(item));
                }
            }
        }

        return groups;

        static void Add(Dictionary<string, List<T>> groups, string queue, T item)
        {
            if (!groups.TryGetValue(queue, out var list))
            {
                groups[queue] = list = [];
            }

            list.Add(item);
        }
    }
}
