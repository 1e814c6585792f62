using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    /// <remarks>One round trip: acknowledge.lua once per queue, pipelined.</remarks>
    public async ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        return (await AcknowledgeAsync(acknowledgements, handOff: null).ConfigureAwait(false)).Applied;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The same round trip as <see cref="AcknowledgeManyAsync"/>: each queue's acknowledge.lua leases, in the script that
    /// releases them, the jobs released into a queue of <paramref name="next"/> with nothing ahead of them (flow.lib.lua,
    /// flow_take). Each queue's script may lease up to the request's limit; the server holds any beyond its free slots
    /// until one frees. Not while the request carries concurrency limits or fair queues (dequeue.lua applies those), and
    /// on a Redis Cluster only what the script's own slot releases (a batch's callbacks go through the outbox).
    /// </remarks>
    public async ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(next.Queues);
        var handOff = next.Limit > 0 && next.Queues.Count > 0 && next.ConcurrencyLimits.Count == 0 && next.FairQueues.Count == 0 ? next : null;
        if (handOff is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(handOff.ServerId);
            foreach (var quota in handOff.Queues)
            {
                EnsureQueueName(quota.Queue);
            }
        }

        return await AcknowledgeAsync(acknowledgements, handOff).ConfigureAwait(false);
    }

    private async ValueTask<AcknowledgeResult> AcknowledgeAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest? handOff)
    {
        if (acknowledgements.Count == 0)
        {
            return new AcknowledgeResult(0, []);
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var byQueue = await GroupByQueueAsync(db, acknowledgements, a => a.JobId).ConfigureAwait(false);
            var nowInstant = _time.GetUtcNow();
            var now = RedisTime.Format(RedisTime.ToMicros(nowInstant));
            var leaseExpiresAt = nowInstant + (handOff?.LeaseDuration ?? TimeSpan.Zero);
            RedisValue[] take = handOff is null
                ? [RedisValue.EmptyString, RedisValue.EmptyString, RedisValue.EmptyString, RedisValue.EmptyString]
                : [handOff.Limit, RedisTime.Format(RedisTime.ToMicros(leaseExpiresAt)), handOff.ServerId, RedisValue.EmptyString];
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
                var arguments = new RedisValue[2 + take.Length + (acks.Count * 10)];
                arguments[0] = now;
                arguments[1] = _wakeUp;
                take.CopyTo(arguments, 2);
                if (handOff is not null)
                {
                    arguments[2 + 3] = TakeQueues(handOff, byQueue, queue);
                }

                var n = 2 + take.Length;
                foreach (var ack in acks)
                {
                    arguments[n++] = ack.JobId;
                    arguments[n++] = ack.LeaseToken;
                    arguments[n++] = (int)ack.Outcome;
                    arguments[n++] = ack.Outcome switch
                    {
                        AckOutcome.Snoozed => RedisTime.Value(ack.SnoozeUntil ?? nowInstant),
                        AckOutcome.Released => ack.AttemptRan ? "1" : RedisValue.EmptyString,
                        _ => RedisTime.Value(ack.RetryAt),
                    };
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
            List<LeasedJob>? leased = null;
            Exception? failed = null;
            foreach (var task in tasks)
            {
                RedisResult result;
                try
                {
                    result = await task.ConfigureAwait(false);
                }
                catch (Exception e) when (handOff is not null)
                {
                    // Every reply is read first: what the other queues' scripts leased must not be lost with this one.
                    failed ??= e;
                    continue;
                }

                if (handOff is null)
                {
                    applied += (int)result;
                    continue;
                }

                // With a hand-off: how many applied, then each job leased, its queue first.
                var values = (RedisValue[])result!;
                applied += (int)values[0];
                for (var i = 1; i + 1 + DequeuedFields <= values.Length; i += 1 + DequeuedFields)
                {
                    (leased ??= []).Add(ReadLeased(values, i + 1, (string)values[i]!, leaseExpiresAt));
                }
            }

            try
            {
                await Task.WhenAll(settled).ConfigureAwait(false);
            }
            catch (Exception e) when (handOff is not null)
            {
                failed ??= e;
            }

            if (failed is not null)
            {
                // The caller sees the failure, not the jobs the scripts that ran leased: they go back to the head of their
                // queues without counting an attempt now, rather than run late as lease-expired jobs with one counted.
                if (leased is { Count: > 0 })
                {
                    await HandBackAsync(leased).ConfigureAwait(false);
                }

                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failed).Throw();
            }

            if (applied > 0 && acknowledgements.Any(a => a.Outcome == AckOutcome.Released))
            {
                SignalJobsReady();
            }

            foreach (var ack in acknowledgements)
            {
                _leasedQueues.TryRemove(ack.JobId, out _);
            }

            return new AcknowledgeResult(applied, (IReadOnlyList<LeasedJob>?)leased ?? []);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>Releases jobs a failed acknowledgement call leased; those it cannot release wait for their leases to expire.</summary>
    private async Task HandBackAsync(List<LeasedJob> leased)
    {
        try
        {
            await AcknowledgeAsync(leased.ConvertAll(static j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Released }), handOff: null).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JobStoreUnavailableException or RedisException)
        {
            // Redis went away or refused: recovery returns them when their leases expire, as for a lost dequeue reply.
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
    /// <remarks>
    /// Two round trips: the queue names, then list_leases.lua once per queue, pipelined (each script in its queue's
    /// slot, so on a Redis Cluster too). Each reads its queue's active set, as small as the jobs running there.
    /// </remarks>
    public async ValueTask<IReadOnlyList<LeaseRef>> ListLeasesAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queues = await QueueNamesAsync(db).ConfigureAwait(false);
            var leases = new List<LeaseRef>();
            if (queues.Length == 0)
            {
                return leases;
            }

            var batch = db.CreateBatch();
            var tasks = Array.ConvertAll(queues, queue => EvaluateQueueAsync(batch, RedisScript.ListLeases, QueueKeys(queue), serverId));
            batch.Execute();

            // Every call is awaited before any failure is thrown: on a Redis Cluster whose primary hangs, several calls fail,
            // and one left unread would be reported as an unobserved task exception.
            await Task.WhenAll(tasks).ConfigureAwait(false);
            for (var q = 0; q < queues.Length; q++)
            {
                var values = (RedisValue[])(await tasks[q].ConfigureAwait(false))!;
                for (var i = 0; i + 1 < values.Length; i += 2)
                {
                    var id = (string)values[i]!;
                    leases.Add(new LeaseRef(id, (long)values[i + 1]));

                    // A lease handed back next finds its queue without a lookup.
                    _leasedQueues[id] = queues[q];
                }
            }

            return leases;
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
    /// The queues a queue's script may lease released jobs into (the hand-off's, joined by tabs): the server's, less those
    /// another script of the same call hands a job back into (Released: a signal that came or a wait that timed out, a
    /// server stopping). The scripts run one after another, so a release leased by one could otherwise go ahead of an
    /// older job that a later one puts back at the head of its queue; acknowledge.lua applies its own queue's hand-backs
    /// first. PostgreSQL's statement trigger and SQLite's one transaction see the handed-back job pending anyway.
    /// </summary>
    private static string TakeQueues(DequeueRequest handOff, Dictionary<string, List<JobAcknowledgement>> byQueue, string queue)
    {
        var served = handOff.Queues.Select(static q => q.Queue);
        if (byQueue.Count > 1)
        {
            served = served.Where(q => string.Equals(q, queue, StringComparison.Ordinal)
                || !(byQueue.TryGetValue(q, out var acks) && acks.Exists(static a => a.Outcome == AckOutcome.Released)));
        }

        return string.Join('\t', served);
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
