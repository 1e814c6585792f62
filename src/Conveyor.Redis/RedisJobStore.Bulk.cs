using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    /// <remarks>
    /// Three pipelined round trips for the batch: one finds each job's queue (the id lookup of a caller-chosen id, a
    /// probe of each queue for a generated one), one runs bulk.lua once per queue (each call on its queue's slot, the
    /// jobs of that queue in the order given), and one releases the id lookups and unique keys of deleted jobs.
    /// </remarks>
    public async ValueTask<IReadOnlyList<JobCommandResult>> RunBulkAsync(JobBulkAction action, string? tenant, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jobIds.Count, IJobQueryStore.MaxBulkJobs, nameof(jobIds));
        foreach (var id in jobIds)
        {
            ArgumentNullException.ThrowIfNull(id, nameof(jobIds));
        }

        var name = action switch
        {
            JobBulkAction.Cancel => "cancel",
            JobBulkAction.Requeue => "requeue",
            JobBulkAction.Delete => "delete",
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Not a bulk action."),
        };
        var results = new JobCommandResult[jobIds.Count];
        if (jobIds.Count == 0)
        {
            return results;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queueOf = await FindQueuesAsync(db, jobIds).ConfigureAwait(false);

            // The positions of each queue's jobs, in the order given.
            var byQueue = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (var i = 0; i < jobIds.Count; i++)
            {
                if (queueOf.TryGetValue(jobIds[i], out var queue))
                {
                    if (!byQueue.TryGetValue(queue, out var positions))
                    {
                        byQueue[queue] = positions = [];
                    }

                    positions.Add(i);
                }
            }

            var now = RedisTime.Format(NowMicros());
            var batch = db.CreateBatch();
            var calls = new List<(string Queue, List<int> Positions, Task<RedisResult> Result)>(byQueue.Count);
            foreach (var (queue, positions) in byQueue)
            {
                var arguments = new RedisValue[5 + positions.Count];
                arguments[0] = name;
                arguments[1] = tenant ?? string.Empty;
                arguments[2] = now;
                arguments[3] = _wakeUp;
                arguments[4] = _keys.CancelChannel.ToString();
                for (var j = 0; j < positions.Count; j++)
                {
                    arguments[5 + j] = jobIds[positions[j]];
                }

                calls.Add((queue, positions, EvaluateQueueAsync(batch, RedisScript.Bulk, QueueKeys(queue), arguments)));
            }

            batch.Execute();
            var cleanup = new DeletedJobsCleanup(this, db);
            var requeued = false;
            foreach (var (queue, positions, pending) in calls)
            {
                var answers = (RedisResult[])(await pending.ConfigureAwait(false))!;
                for (var j = 0; j < positions.Count; j++)
                {
                    var answer = (RedisResult[])answers[j]!;
                    var result = (JobCommandResult)(int)answer[0];
                    results[positions[j]] = result;
                    requeued |= action == JobBulkAction.Requeue && result == JobCommandResult.Done;
                    if (action == JobBulkAction.Delete && result == JobCommandResult.Done)
                    {
                        cleanup.Forget(queue, jobIds[positions[j]], (string?)answer[1], (string?)answer[2], (string?)answer[3]);
                    }
                }
            }

            if (action == JobBulkAction.Delete)
            {
                await cleanup.ExecuteAsync().ConfigureAwait(false);
            }

            if (requeued)
            {
                SignalJobsReady();
            }

            return results;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>The queue of each job that exists (one pipelined round trip after the queue names).</summary>
    private async Task<Dictionary<string, string>> FindQueuesAsync(IDatabase db, IReadOnlyList<string> jobIds)
    {
        var queues = await QueueNamesAsync(db).ConfigureAwait(false);
        _knownQueueNames = queues;
        var batch = db.CreateBatch();
        var lookups = new List<(string Id, Task<RedisValue>? Lookup, Task<bool>[]? Probes)>();
        foreach (var id in jobIds.Distinct(StringComparer.Ordinal))
        {
            if (!JobId.IsValid(id))
            {
                continue;
            }

            lookups.Add(JobId.IsGenerated(id)
                ? (id, null, Array.ConvertAll(queues, queue => batch.KeyExistsAsync(QueueKeys(queue).Job(id))))
                : (id, batch.StringGetAsync(_keys.IdLookup(id)), null));
        }

        batch.Execute();
        var found = new Dictionary<string, string>(lookups.Count, StringComparer.Ordinal);
        foreach (var (id, lookup, probes) in lookups)
        {
            if (lookup is not null)
            {
                var value = await lookup.ConfigureAwait(false);
                if (!value.IsNullOrEmpty)
                {
                    found[id] = ReadLookup((string)value!).Queue;
                }

                continue;
            }

            for (var q = 0; q < probes!.Length; q++)
            {
                if (await probes[q].ConfigureAwait(false) && !found.ContainsKey(id))
                {
                    found[id] = queues[q];
                }
            }
        }

        return found;
    }
}
