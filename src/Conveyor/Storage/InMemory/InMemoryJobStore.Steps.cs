namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    public ValueTask<bool> SaveStepAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(step);
        JobStep.Validate(step.Name, step.Result.Length);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job) || job.State != JobState.Active || job.LeaseToken != leaseToken)
            {
                return ValueTask.FromResult(false);
            }

            var stored = step with { Result = step.Result.ToArray() };
            var steps = job.Steps ??= [];
            var index = steps.FindIndex(s => string.Equals(s.Name, step.Name, StringComparison.Ordinal));
            if (index >= 0)
            {
                steps[index] = stored;
            }
            else
            {
                steps.Add(stored);
            }

            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<JobStep>?> GetStepsAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<JobStep>?>(
                _jobs.TryGetValue(jobId, out var job) && string.Equals(job.Tenant, tenant, StringComparison.Ordinal)
                    ? [.. job.Steps ?? []]
                    : null);
        }
    }
}
