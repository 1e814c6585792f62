using System.Globalization;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <remarks>
/// Workflows on Redis (Scripts/flow.lib.lua): a waiting job is in its queue's waiting zset, which no dequeue reads; the
/// script that finishes a job with the flow flag (acknowledge, cancel, recover, bulk, delete, batch_cancel) counts it in
/// its batch and resolves what waits for it in the same call. A batch is a hash on the coordination slot. A script
/// touches every key of a workflow, so on a Redis Cluster batches are refused and a continuation's dependency must be
/// on the dependant's slot (ARCHITECTURE.md, "Workflows").
/// </remarks>
public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    public async ValueTask<EnqueueAllResult> CreateBatchAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(jobs);
        if (!jobs.Any(j => j?.BatchId == batch.Id))
        {
            throw new ArgumentException("A batch needs at least one job.", nameof(jobs));
        }

        foreach (var job in jobs)
        {
            EnsureValid(job);
        }

        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, _time.GetUtcNow()) is { } repeated)
        {
            return repeated;
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var operation = new BatchOperation("create", batch.Id, batch.Tenant, RedisTime.ToMicros(batch.Retention),
                batch.Workflow is { } workflow ? WorkflowJson.Encode(workflow) : string.Empty);
            return (await StoreAllAsync(db, jobs, operation).ConfigureAwait(false))!;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<EnqueueAllResult?> AddToBatchAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(jobs);
        foreach (var job in jobs)
        {
            EnsureValid(job);
        }

        if (EnqueueAllResult.RefuseRepeatsWithinList(jobs, _time.GetUtcNow()) is { } repeated)
        {
            return repeated;
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (jobs.Count == 0)
            {
                var state = await db.HashGetAsync(_keys.Batch(batchId), ["tn", "st"]).ConfigureAwait(false);
                return state[0] == tenant && state[1] == "running" ? EnqueueAllResult.Stored([]) : null;
            }

            return await StoreAllAsync(db, jobs, new BatchOperation("add", batchId, tenant)).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var fields = JobRecord.Fields(await db.HashGetAllAsync(_keys.Batch(batchId)).ConfigureAwait(false));
            if (!fields.TryGetValue("tn", out var owner) || owner != tenant)
            {
                return null;
            }

            RedisValue Get(string name) => fields.TryGetValue(name, out var value) ? value : RedisValue.Null;
            int Int(string name) => Get(name).TryParse(out int value) ? value : 0;
            var created = RedisTime.Instant(Get("c")) ?? DateTimeOffset.UnixEpoch;
            return new BatchInfo
            {
                Id = batchId,
                Tenant = tenant,
                State = (string?)Get("st") switch
                {
                    "succeeded" => BatchState.Succeeded,
                    "completed" => BatchState.Completed,
                    "cancelled" => BatchState.Cancelled,
                    _ => BatchState.Running,
                },
                Total = Int("n"),
                Succeeded = Int("s"),
                Failed = Int("f"),
                Cancelled = Int("x"),
                CreatedAt = created,
                UpdatedAt = RedisTime.Instant(Get("u")) ?? created,
                FinishedAt = RedisTime.Instant(Get("fin")),
                Workflow = (string?)Get("wd") is { Length: > 0 } workflow ? WorkflowJson.Decode(workflow) : null,
            };
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var result = await EvaluateAsync(
                db,
                RedisScript.BatchCancel,
                [_keys.Batch(batchId)],
                [_keys.Prefix, batchId, tenant, RedisTime.Format(NowMicros()), _keys.CancelChannel.ToString()]).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// Refuses, before anything is written, a workflow a Cluster cannot keep atomic: the script that finishes a job
    /// must reach what waits for it on its own slot, so batches (on the coordination slot) are refused, and a
    /// continuation's dependency must be on a queue of the dependant's slot.
    /// </summary>
    private void EnsureWorkflowOnOneSlot(IReadOnlyList<NewJob> jobs, BatchOperation batchOperation, Dictionary<string, string>? dependencyQueues)
    {
        if (batchOperation.Name.Length > 0 || jobs.Any(static j => j.BatchId is not null || j.DependsOn.Any(static d => d.OnBatch)))
        {
            throw new NotSupportedException(
                "Batches are not available on a Redis Cluster: a batch's counts and callbacks would live on another slot than its jobs, " +
                "and a script must stay on one slot. Use a single Redis node (with replicas) for batches (ARCHITECTURE.md, \"Workflows\").");
        }

        foreach (var job in jobs)
        {
            var slot = _connection!.HashSlot(QueueKeys(job.Queue).Pending);
            foreach (var dependency in job.DependsOn)
            {
                if (dependencyQueues!.TryGetValue(dependency.Id, out var queue) && queue.Length > 0
                    && _connection.HashSlot(QueueKeys(queue).Pending) != slot)
                {
                    throw new NotSupportedException(string.Create(
                        CultureInfo.InvariantCulture,
                        $"On a Redis Cluster a job can wait only for jobs of queues on its own slot: '{job.Id}' (queue '{job.Queue}', slot {slot}) waits for '{dependency.Id}' " +
                        $"(queue '{queue}', slot {_connection.HashSlot(QueueKeys(queue).Pending)}). Put a workflow's jobs on one queue, or use a single Redis node (ARCHITECTURE.md, \"Workflows\")."));
                }
            }
        }
    }
}
