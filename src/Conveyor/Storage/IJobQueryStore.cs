namespace Conveyor.Storage;

/// <summary>
/// What the Jobs API and operators do. Every job-level method takes the tenant: another tenant's job
/// is treated exactly as a job that does not exist.
/// </summary>
public interface IJobQueryStore
{
    /// <summary>The job, or null if there is none with that id in that tenant.</summary>
    ValueTask<JobInfo?> GetAsync(string tenant, string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the tenant's jobs (every tenant's when <see cref="JobQuery.Tenant"/> is null), newest first
    /// (created-at, then id, descending), filtered by every filter the query sets.
    /// </summary>
    ValueTask<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a job: scheduled, pending or retrying becomes cancelled (<see cref="JobCommandResult.Done"/>);
    /// an active one gets a cancellation request that reaches its worker (<see cref="JobCommandResult.Requested"/>);
    /// a finished one is <see cref="JobCommandResult.NotAllowed"/>.
    /// </summary>
    ValueTask<JobCommandResult> CancelAsync(string tenant, string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a failed, cancelled, scheduled or retrying job again now: pending at the back of its queue, scheduled-at
    /// now, started-at and completed-at cleared, progress 0, errors kept. Attempts keep counting (they are not
    /// reset), so each attempt's error has its own number; a job whose retries were spent therefore gets one more
    /// attempt, and fails again for good if that one fails too.
    /// Pending, active, succeeded and partial jobs are <see cref="JobCommandResult.NotAllowed"/>.
    /// </summary>
    ValueTask<JobCommandResult> RequeueAsync(string tenant, string jobId, CancellationToken cancellationToken);

    /// <summary>Deletes a job that is not active (an active job must be cancelled first: <see cref="JobCommandResult.NotAllowed"/>).</summary>
    ValueTask<JobCommandResult> DeleteAsync(string tenant, string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies one command to many jobs in a bounded number of round trips (one transaction, one statement or one
    /// script per queue), not one per job. Each id gets the answer the single-job method would have given at that
    /// moment, in the order given: a job whose state does not allow the command is
    /// <see cref="JobCommandResult.NotAllowed"/> and the others still apply; an id given twice is answered twice,
    /// the second time after the first applied. At most <see cref="MaxBulkJobs"/> ids. A null tenant means jobs of
    /// any tenant (an operator's call); otherwise another tenant's job is <see cref="JobCommandResult.NotFound"/>.
    /// </summary>
    ValueTask<IReadOnlyList<JobCommandResult>> RunBulkAsync(JobBulkAction action, string? tenant, IReadOnlyList<string> jobIds, CancellationToken cancellationToken);

    /// <summary>The most ids one <see cref="RunBulkAsync"/> takes.</summary>
    const int MaxBulkJobs = 1000;

    /// <summary>Counts by state for every queue that has jobs or is paused, ordered by name.</summary>
    ValueTask<IReadOnlyList<QueueStats>> GetQueueStatsAsync(CancellationToken cancellationToken);

    /// <summary>Stops dequeues from the queue, for every server sharing the store. Enqueues still succeed.</summary>
    ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Lets dequeues take from the queue again.</summary>
    ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken);
}
