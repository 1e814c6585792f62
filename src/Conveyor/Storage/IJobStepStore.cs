namespace Conveyor.Storage;

/// <summary>
/// Durable steps: results a running handler stores under a name, one at a time, while it holds the job's lease; a
/// retry of the same job (after a crash, a failure or a snooze) reads them back and skips the steps that finished.
/// Steps go with the job: deleting or purging a job deletes its steps.
/// </summary>
public interface IJobStepStore
{
    /// <summary>
    /// Stores (or replaces) a step of an active job if it is still leased under <paramref name="leaseToken"/>; false
    /// otherwise (the lease was lost, so another attempt may be running and this one must not record anything).
    /// </summary>
    ValueTask<bool> SaveStepAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken);

    /// <summary>The tenant's job's finished steps in the order they were stored; null when there is no such job.</summary>
    ValueTask<IReadOnlyList<JobStep>?> GetStepsAsync(string tenant, string jobId, CancellationToken cancellationToken);
}
