using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// Jobs that run after others: chains of continuations stored together, and batches with callbacks. A single
/// continuation needs only <see cref="JobOptions.After"/> on an ordinary enqueue. Registered by <c>AddConveyor</c>.
/// </summary>
public interface IWorkflowClient
{
    /// <summary>
    /// Stores every job of the list or none (a chain: the later ones name the earlier ones in
    /// <see cref="JobOptions.After"/>), in one atomic step of the store. Build the jobs with
    /// <see cref="IJobClient.CreateJob{TPayload}"/>.
    /// </summary>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached; nothing was stored.</exception>
    Task<EnqueueAllResult> EnqueueAllAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a batch of <paramref name="jobs"/> (at least one, all of one tenant) with its callbacks, all or none, in
    /// one atomic step of the store. Each callback is enqueued exactly once by the transition that finishes the
    /// batch's last job.
    /// </summary>
    /// <exception cref="ArgumentException">No job, jobs of several tenants, a job already in a batch, or a callback that waits for something else.</exception>
    Task<BatchEnqueueResult> StartBatchAsync(IReadOnlyList<NewJob> jobs, BatchOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a workflow: its steps (jobs with dependencies among them, by step name) are stored all or none, in one
    /// atomic step of the store, as a batch whose id is the workflow's. A step starts once every step it runs after has
    /// succeeded; its <see cref="WorkflowStep.Condition"/> says what happens when one did not. Cancel it as a whole with
    /// <see cref="CancelBatchAsync"/>; read it with <see cref="GetWorkflowAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Before anything is stored: no step, a step name that is invalid or used twice, an after list naming a step the
    /// workflow does not have (or one twice), a cycle (named in the message), steps of several tenants, or a bad id.
    /// </exception>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached; nothing was stored.</exception>
    Task<WorkflowEnqueueResult> StartWorkflowAsync(WorkflowBuilder workflow, CancellationToken cancellationToken = default);

    /// <summary>
    /// The workflow's state and each step's (name, job, state, what it runs after), or null when the tenant has no
    /// workflow with this id (a plain batch is not a workflow).
    /// </summary>
    Task<WorkflowInfo?> GetWorkflowAsync(string workflowId, string tenant, CancellationToken cancellationToken = default);

    /// <summary>Adds jobs to a running batch, all or none (from a job of the batch, for example).</summary>
    /// <exception cref="InvalidOperationException">The tenant has no such batch, or it is no longer running (finished or cancelled).</exception>
    Task<EnqueueAllResult> AddToBatchAsync(string batchId, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>The batch's state, counts and progress, or null when the tenant has no batch with this id.</summary>
    Task<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the tenant's batches (every tenant's when <see cref="BatchQuery.Tenant"/> is null; only workflows with
    /// <see cref="BatchQuery.WorkflowsOnly"/>), newest first;
    /// <see cref="BatchPage.NextCursor"/> as the next query's <see cref="BatchQuery.Cursor"/> reads the next page.
    /// </summary>
    /// <exception cref="ArgumentException">A limit out of range, or a cursor that no batch listing returned.</exception>
    Task<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a running batch: its jobs that are not running are cancelled, running ones at the end of their attempt;
    /// the complete callback runs once all have finished, and the success callback does not run, even if every job
    /// still succeeded. False when the tenant has no such batch or it is not running.
    /// </summary>
    Task<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken = default);

    /// <summary>
    /// Delivers signal <paramref name="name"/> to the tenant's job <paramref name="jobId"/>, its payload
    /// <paramref name="payload"/> as JSON (with the payload serializer's settings, <c>ConveyorJsonOptions</c>, which the
    /// handler's <see cref="JobContext.WaitForSignalAsync{T}"/> reads it with). A job parked waiting for it is made
    /// pending at once (<see cref="JobSignalResult.Resumed"/>); one that has not reached its wait keeps it for then
    /// (<see cref="JobSignalResult.Delivered"/>). The other results say why nothing was stored: no such job in the
    /// tenant, a finished job, a job past its deadline, a signal of that name delivered before (the first one wins) or
    /// a wait that timed out.
    /// Bytes (<c>byte[]</c>, <see cref="Memory{T}"/>) are taken as JSON already, as the <see cref="ReadOnlyMemory{T}"/>
    /// overload takes them.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A bad signal name or tenant, a payload over 1 MiB, or bytes that are not one JSON value its handler can read (a
    /// name twice in one object, a string with a lone UTF-16 surrogate).
    /// </exception>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached.</exception>
    Task<JobSignalResult> SignalAsync<T>(string jobId, string name, T payload, string tenant, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="SignalAsync{T}"/> with a payload that is JSON already (one value, as <c>POST /jobs/{id}/signals/{name}</c>
    /// takes it; empty or <c>"null"u8</c> for none).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A bad signal name or tenant, or a payload that is not one JSON value (a name twice in one object and a string with
    /// a lone UTF-16 surrogate included) or is over 1 MiB.
    /// </exception>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached.</exception>
    Task<JobSignalResult> SignalAsync(string jobId, string name, ReadOnlyMemory<byte> payload, string tenant, CancellationToken cancellationToken = default);
}
