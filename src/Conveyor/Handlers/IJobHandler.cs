namespace Conveyor;

/// <summary>
/// Handles jobs of one payload type. Handlers are resolved from dependency injection in a new scope per job,
/// so they take their dependencies in their constructor.
/// </summary>
/// <typeparam name="TPayload">The payload type; its <see cref="IJobPayload.JobType"/> routes jobs here.</typeparam>
public interface IJobHandler<in TPayload>
    where TPayload : IJobPayload
{
    /// <summary>
    /// Runs one attempt. Return normally for success; throw to fail the attempt (it is retried with backoff),
    /// or throw <see cref="SkipRetryException"/> for an error that retrying cannot fix.
    /// <paramref name="cancellationToken"/> is cancelled on timeout, deadline, cancellation of the job, loss of
    /// the lease, or when the shutdown grace period ends.
    /// </summary>
    Task HandleAsync(TPayload payload, JobContext context, CancellationToken cancellationToken);
}
