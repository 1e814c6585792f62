using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// Enqueues jobs and reads them back by id. Registered by <c>AddConveyor</c>; safe to use from any thread and any
/// service.
/// </summary>
public interface IJobClient
{
    /// <summary>Enqueues one job with a typed payload; the payload type names the job type.</summary>
    /// <returns>The stored job, or a duplicate outcome (see <see cref="EnqueueResult.IsDuplicate"/>).</returns>
    /// <exception cref="ArgumentException">The options or the payload are invalid (the message names which and why).</exception>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached; nothing was stored.</exception>
    Task<EnqueueResult> EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload;

    /// <summary>Enqueues one job of the given type with a raw (JSON) payload.</summary>
    Task<EnqueueResult> EnqueueAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues many jobs of one type in one round trip; one result per payload, in order.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync<TPayload>(IEnumerable<TPayload> payloads, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload;

    /// <summary>Enqueues jobs built with <see cref="CreateJob{TPayload}"/> (of any types) in one round trip.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Builds the stored form of a job with every default applied and the options validated, without storing it:
    /// for <see cref="EnqueueManyAsync(IReadOnlyList{NewJob}, CancellationToken)"/> and for stores that enqueue
    /// inside the caller's own database transaction.
    /// </summary>
    NewJob CreateJob<TPayload>(TPayload payload, JobOptions? options = null)
        where TPayload : IJobPayload;

    /// <summary>Builds the stored form of a job of the given type with a raw payload.</summary>
    NewJob CreateJob(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null);

    /// <summary>
    /// The job's current state, progress, result and errors, or null if the tenant has no job with this id (another
    /// tenant's job is treated exactly as one that does not exist). <see cref="JobClientExtensions.GetJobAsync(IJobClient, string, CancellationToken)"/>
    /// reads in the default tenant.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tenant"/> is not a tenant id.</exception>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached.</exception>
    Task<JobInfo?> GetJobAsync(string jobId, string tenant, CancellationToken cancellationToken = default);
}
