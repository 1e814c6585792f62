using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <remarks>
/// Workflows on Redis (Scripts/flow.lib.lua): a waiting job is in its queue's waiting zset, which no dequeue reads; the
/// script that finishes a job with the flow flag (acknowledge, cancel, recover, bulk, delete, batch_cancel) counts it in
/// its batch and resolves what waits for it in the same call. A batch is a hash on the coordination slot. On one Redis
/// node a script touches every key of a workflow; on a Redis Cluster what crosses slots goes through outboxes
/// (RedisJobStore.Outbox.cs; ARCHITECTURE.md, "Workflows").
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
            await EnsureWritableAsync(jobs, coordination: true).ConfigureAwait(false);
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

            await EnsureWritableAsync(jobs, coordination: true).ConfigureAwait(false);
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

            return ReadBatch(batchId, fields);
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
            var cluster = !RegistersQueueInScript();
            var now = RedisTime.Format(NowMicros());
            var result = await EvaluateAsync(
                db,
                RedisScript.BatchCancel,
                [_keys.Batch(batchId)],
                [_keys.Prefix, batchId, tenant, now, _keys.CancelChannel.ToString(), cluster ? "1" : "0", WorkflowMessages.BatchCancelled(batchId)]).ConfigureAwait(false);
            if (result.Resp2Type != ResultType.Array)
            {
                return (int)result == 1;
            }

            // A Cluster: the batch is cancelled on its slot; each unfinished member now on its own (as a cancel). A batch
            // cancelled before answers with its unfinished members too, so that a retry finishes a cancel cut short.
            var members = (RedisValue[])result!;
            var cancels = new List<Task<RedisResult>>(members.Length - 1);
            var batch = db.CreateBatch();
            foreach (var member in members.Skip(1))
            {
                var text = (string)member!;
                var tab = text.IndexOf('\t', StringComparison.Ordinal);
                cancels.Add(EvaluateQueueAsync(batch, RedisScript.Cancel, QueueKeys(text[..tab]), text[(tab + 1)..], tenant, now, _keys.CancelChannel.ToString(), WorkflowMessages.BatchCancelled(batchId)));
            }

            batch.Execute();
            await Task.WhenAll(cancels).ConfigureAwait(false);
            return (int)members[0] == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>A batch from its hash's fields (Scripts/flow.lib.lua names them); the tenant is the hash's.</summary>
    private static BatchInfo ReadBatch(string batchId, Dictionary<string, RedisValue> fields)
    {
        RedisValue Get(string name) => fields.TryGetValue(name, out var value) ? value : RedisValue.Null;
        int Int(string name) => Get(name).TryParse(out int value) ? value : 0;
        var created = RedisTime.Instant(Get("c")) ?? DateTimeOffset.UnixEpoch;
        return new BatchInfo
        {
            Id = batchId,
            Tenant = (string?)Get("tn") ?? string.Empty,
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
}
