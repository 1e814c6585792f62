using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;

namespace Conveyor.Workflows;

/// <summary>Checks what a chain or batch asks for, stores it in one step and counts and signals what was stored.</summary>
internal sealed partial class WorkflowClient(IJobStore store, JobPayloadSerializer serializer, ConveyorMetrics metrics, JobReadySignal readySignal, PromotionAlarm alarm, TimeProvider timeProvider) : IWorkflowClient
{
    /// <summary>How long a finished batch's record stays readable when the options say nothing.</summary>
    internal static readonly TimeSpan DefaultBatchRetention = TimeSpan.FromDays(7);

    public async Task<EnqueueAllResult> EnqueueAllAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        using var send = StartSend(ref jobs);
        var result = await store.EnqueueAllOrNoneAsync(jobs, cancellationToken).ConfigureAwait(false);
        Stored(jobs, result);
        return result;
    }

    public async Task<BatchEnqueueResult> StartBatchAsync(IReadOnlyList<NewJob> jobs, BatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        var plan = BatchPlan.ForBatch(jobs, options);
        var stored = plan.Jobs;
        using var send = StartSend(ref stored);
        var result = await store.CreateBatchAsync(plan.Batch, stored, cancellationToken).ConfigureAwait(false);
        Stored(stored, result);
        return new BatchEnqueueResult(plan.Batch.Id, result);
    }

    /// <summary>The batch <see cref="StartBatchAsync"/> stores (<see cref="BatchPlan.ForBatch"/>).</summary>
    internal static (NewBatch Batch, List<NewJob> Jobs) PrepareBatch(IReadOnlyList<NewJob> jobs, BatchOptions? options)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        options ??= new BatchOptions();
        if (jobs.Count == 0)
        {
            throw new ArgumentException("A batch needs at least one job.", nameof(jobs));
        }

        var batchId = options.BatchId ?? BatchId.New();
        if (!BatchId.IsValid(batchId))
        {
            throw new ArgumentException($"'{batchId}' is not a batch id: use BatchId.New() ('batch_' and 32 lowercase hex digits).", nameof(options));
        }

        if (options.Retention is { } retention && retention <= TimeSpan.Zero)
        {
            throw new ArgumentException("BatchOptions.Retention must be positive.", nameof(options));
        }

        var tenant = jobs[0]?.Tenant ?? throw new ArgumentException("A job of the list is null.", nameof(jobs));
        var all = new List<NewJob>(jobs.Count + 2);
        all.AddRange(Members(batchId, tenant, jobs));
        if (options.OnSuccess is { } onSuccess)
        {
            all.Add(Callback(batchId, tenant, onSuccess, successOnly: true, nameof(BatchOptions.OnSuccess)));
        }

        if (options.OnComplete is { } onComplete)
        {
            all.Add(Callback(batchId, tenant, onComplete, successOnly: false, nameof(BatchOptions.OnComplete)));
        }

        return (new NewBatch { Id = batchId, Tenant = tenant, Retention = options.Retention ?? DefaultBatchRetention }, all);
    }

    public async Task<EnqueueAllResult> AddToBatchAsync(string batchId, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return EnqueueAllResult.Stored([]);
        }

        var tenant = jobs[0]?.Tenant ?? throw new ArgumentException("A job of the list is null.", nameof(jobs));
        IReadOnlyList<NewJob> members = BatchId.IsValid(batchId) ? Members(batchId, tenant, jobs).ToList() : [];
        using var send = StartSend(ref members);
        var result = members.Count == 0 ? null : await store.AddToBatchAsync(batchId, tenant, members, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            throw new InvalidOperationException(
                $"Tenant '{tenant}' (the jobs' tenant) has no running batch '{batchId}': it does not exist in that tenant, has finished or was cancelled. " +
                "Jobs join a batch of their own tenant: a member adding to its batch builds them with Tenant = context.Tenant.");
        }

        Stored(members, result);
        return result;
    }

    public Task<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        EnsureTenant(tenant);
        return BatchId.IsValid(batchId) ? store.GetBatchAsync(batchId, tenant, cancellationToken).AsTask() : Task.FromResult<BatchInfo?>(null);
    }

    public Task<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Tenant is { } tenant)
        {
            EnsureTenant(tenant);
        }

        return store.ListBatchesAsync(query, cancellationToken).AsTask();
    }

    public Task<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        EnsureTenant(tenant);
        return BatchId.IsValid(batchId) ? store.CancelBatchAsync(batchId, tenant, cancellationToken).AsTask() : Task.FromResult(false);
    }

    private static IEnumerable<NewJob> Members(string batchId, string tenant, IReadOnlyList<NewJob> jobs)
    {
        foreach (var job in jobs)
        {
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            if (!string.Equals(job.Tenant, tenant, StringComparison.Ordinal))
            {
                throw new ArgumentException($"The jobs of a batch belong to one tenant: '{job.Id}' is of '{job.Tenant}', not '{tenant}'.", nameof(jobs));
            }

            if (job.BatchId is not null && job.BatchId != batchId)
            {
                throw new ArgumentException($"Job '{job.Id}' already belongs to batch '{job.BatchId}'.", nameof(jobs));
            }

            yield return job with { BatchId = batchId };
        }
    }

    private static NewJob Callback(string batchId, string tenant, NewJob job, bool successOnly, string option)
    {
        if (!string.Equals(job.Tenant, tenant, StringComparison.Ordinal))
        {
            throw new ArgumentException($"BatchOptions.{option} belongs to tenant '{job.Tenant}', the batch's jobs to '{tenant}'.", option);
        }

        if (job.DependsOn.Count > 0 || job.BatchId is not null)
        {
            throw new ArgumentException($"BatchOptions.{option} waits for its batch only: build it without JobOptions.After.", option);
        }

        return job with { DependsOn = [new JobDependency(batchId, successOnly, OnBatch: true)] };
    }

    private static void EnsureTenant(string tenant)
    {
        // A read: a tenant stored before '.' and '..' were refused stays readable.
        if (!TenantId.IsStored(tenant))
        {
            throw new ArgumentException($"'{tenant}' is not a tenant id: use 1 to {TenantId.MaxLength} letters, digits, '_', '-' or '.'.", nameof(tenant));
        }
    }

    /// <summary>
    /// The span of the write (<see cref="EnqueueTracing.StartBatchPublish"/>), as <c>EnqueueManyAsync</c> has, linked to
    /// every job's creation; a job without a creation context takes its context.
    /// </summary>
    private static System.Diagnostics.Activity? StartSend(ref IReadOnlyList<NewJob> jobs)
    {
        var send = jobs.Count == 0 ? null : EnqueueTracing.StartBatchPublish(jobs);
        jobs = EnqueueTracing.WithBatchContext(send, jobs);
        return send;
    }

    private void Stored(IReadOnlyList<NewJob> jobs, EnqueueAllResult result)
    {
        if (!result.AllStored)
        {
            return;
        }

        for (var i = 0; i < jobs.Count; i++)
        {
            metrics.JobEnqueued(jobs[i].Type, jobs[i].Queue);
        }

        readySignal.Set();
        alarm.RingForStored(jobs, result.Results, timeProvider.GetUtcNow());
    }
}
