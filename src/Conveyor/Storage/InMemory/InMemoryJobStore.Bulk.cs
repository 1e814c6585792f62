namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<JobCommandResult>> RunBulkAsync(JobBulkAction action, string? tenant, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jobIds.Count, IJobQueryStore.MaxBulkJobs, nameof(jobIds));
        cancellationToken.ThrowIfCancellationRequested();
        var results = new JobCommandResult[jobIds.Count];
        for (var i = 0; i < jobIds.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(jobIds[i], nameof(jobIds));
            string? owner;
            lock (_gate)
            {
                owner = tenant ?? (_jobs.TryGetValue(jobIds[i], out var job) ? job.Tenant : null);
            }

            // Each single-job command takes the lock once and completes synchronously: nothing is awaited for real.
            results[i] = owner is null
                ? JobCommandResult.NotFound
                : action switch
                {
                    JobBulkAction.Cancel => await CancelAsync(owner, jobIds[i], cancellationToken).ConfigureAwait(false),
                    JobBulkAction.Requeue => await RequeueAsync(owner, jobIds[i], cancellationToken).ConfigureAwait(false),
                    JobBulkAction.Delete => await DeleteAsync(owner, jobIds[i], cancellationToken).ConfigureAwait(false),
                    _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Not a bulk action."),
                };
        }

        return results;
    }
}
