using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <summary>
    /// What follows the scripts that deleted jobs (a delete, a bulk delete, the purge, a trim): the keys of those jobs
    /// outside their queue's slot (the id lookup, the unique key's claim), dropped in one pipelined batch, then the
    /// lookups of ids stored again meanwhile written back.
    /// </summary>
    private sealed class DeletedJobsCleanup(RedisJobStore store, IDatabase db)
    {
        private readonly List<Task> _tasks = [];
        private readonly List<(string Id, string Queue, Task<RedisResult> Removed)> _removedLookups = [];

        /// <summary>The batch, for other clean-up of the same round trip.</summary>
        public IBatch Batch { get; } = db.CreateBatch();

        public void Add(Task task) => _tasks.Add(task);

        /// <summary>
        /// Drops a deleted job's id lookup and its unique key's claim. A caller-chosen id's lookup goes only if it still
        /// names this queue; a generated id has none since it needs no claim, but one an earlier version wrote may be
        /// there, and no other job can hold that id, so a plain delete that nobody waits for clears it. The claim goes
        /// only if it is still exactly the one the deleting script read off the job (<paramref name="claim"/>): the same
        /// job stored again since, under the same id and key, holds a claim of its own (a later created-at) that a match
        /// on queue and id alone would drop, leaving its key free for a second job. A job whose claim could not be
        /// rebuilt (a hash without its created-at) falls back to that match.
        /// </summary>
        public void Forget(string queue, string jobId, string? tenant, string? uniqueKey, string? claim)
        {
            if (JobId.IsGenerated(jobId))
            {
                _ = Batch.KeyDeleteAsync(store._keys.IdLookup(jobId), CommandFlags.FireAndForget);
            }
            else
            {
                var removal = store.EvaluateAsync(Batch, RedisScript.CompareAndDelete, [store._keys.IdLookup(jobId)], [queue, "exact"]);
                _tasks.Add(removal);
                _removedLookups.Add((jobId, queue, removal));
            }

            if (tenant is not null && !string.IsNullOrEmpty(uniqueKey))
            {
                RedisValue[] expected = string.IsNullOrEmpty(claim) ? [$"{queue}\t{jobId}\t", "prefix"] : [claim, "exact"];
                _tasks.Add(store.EvaluateAsync(Batch, RedisScript.CompareAndDelete, [store._keys.UniqueKey(tenant, uniqueKey)], expected));
            }
        }

        public async Task ExecuteAsync()
        {
            Batch.Execute();
            await Task.WhenAll(_tasks).ConfigureAwait(false);
            await RestoreLookupsOfStoredJobsAsync().ConfigureAwait(false);
        }

        /// <summary>
        /// A job stored again under a dropped lookup's id, in the same queue, since its script deleted the old one (its
        /// enqueue found the old lookup and kept it) gets its lookup back. The lookup lives outside the queue's slot, so
        /// its removal cannot be one step with the delete; this check after it, with the enqueue's own check after
        /// storing (<see cref="KeepLookupsAsync"/>), leaves no order in which a stored job ends up without its lookup.
        /// </summary>
        private async Task RestoreLookupsOfStoredJobsAsync()
        {
            List<(string Id, string Queue, Task<bool> Exists)>? checks = null;
            IBatch? batch = null;
            foreach (var (id, queue, removal) in _removedLookups)
            {
                if ((int)await removal.ConfigureAwait(false) == 1)
                {
                    batch ??= db.CreateBatch();
                    (checks ??= []).Add((id, queue, batch.KeyExistsAsync(store.QueueKeys(queue).Job(id))));
                }
            }

            if (checks is null)
            {
                return;
            }

            batch!.Execute();
            var stored = new List<(string, string)>();
            foreach (var (id, queue, exists) in checks)
            {
                if (await exists.ConfigureAwait(false))
                {
                    stored.Add((id, queue));
                }
            }

            await store.KeepLookupsAsync(db, stored).ConfigureAwait(false);
        }
    }
}
