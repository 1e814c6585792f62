namespace Conveyor.Storage;

/// <summary>
/// Batches: a parent record whose counts the transition that finishes each member updates, and whose callbacks (jobs
/// waiting on the batch through <see cref="JobDependency.OnBatch"/>) the transition that finishes its last member
/// releases, in the same atomic step. Continuations need no operation of their own: a <see cref="NewJob"/> with
/// <see cref="NewJob.DependsOn"/> goes through the ordinary enqueue operations.
/// </summary>
public interface IWorkflowStore
{
    /// <summary>
    /// Creates the batch and stores its jobs, all or none, in one atomic step (as
    /// <see cref="IJobQueueStore.EnqueueAllOrNoneAsync"/>): its members (<see cref="NewJob.BatchId"/> = the batch's id,
    /// at least one) and its callbacks (jobs that depend on the batch). Nothing is written when a job is refused.
    /// </summary>
    /// <exception cref="ArgumentException">A batch with this id exists, or the list has no member.</exception>
    ValueTask<EnqueueAllResult> CreateBatchAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    /// <summary>
    /// Adds members (and callbacks) to a running batch of the tenant, all or none, in one atomic step with a check that
    /// the batch still runs. Null when the tenant has no such batch or it is no longer running (finished or
    /// cancelled): nothing is written then.
    /// </summary>
    ValueTask<EnqueueAllResult?> AddToBatchAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    /// <summary>The batch and its counts, or null when the tenant has none with this id (or it was purged).</summary>
    ValueTask<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the tenant's batches (every tenant's when <see cref="BatchQuery.Tenant"/> is null;
    /// <see cref="BatchQuery.WorkflowsOnly"/>: only workflows), newest first
    /// (created-at, then id, descending), of one state when <see cref="BatchQuery.State"/> is set: a keyset page, so
    /// that batches created while an operator pages neither shift nor repeat the pages after. A purged batch is not
    /// listed.
    /// </summary>
    /// <exception cref="ArgumentException">A limit out of range, or a cursor that no batch listing returned.</exception>
    ValueTask<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a running batch of the tenant as one atomic step: its waiting, scheduled, pending and retrying members
    /// become cancelled, its active members get a cancellation request, and the batch is <see cref="BatchState.Cancelled"/>.
    /// Its complete callbacks run once every member has finished; its success callbacks are then resolved as not met
    /// (cancelled, or failed for <see cref="JobDependency.FailIfUnmet"/>), even when every member still succeeded, and
    /// so is a success callback added once it has finished. False when the tenant has no such batch or it is not running.
    /// </summary>
    ValueTask<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken);
}
