namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    /// <remarks>Every job is checked under the store's lock before the first is written, so nothing is half-written.</remarks>
    public ValueTask<EnqueueAllResult> EnqueueAllOrNoneAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            return ValueTask.FromResult(RefuseAny(jobs, now, batch: null) ?? StoreAll(jobs, now));
        }
    }

    /// <summary>Why <see cref="EnqueueCore"/> would refuse the job, without writing anything; null when it would store it.</summary>
    private EnqueueResult? Refusal(NewJob job, DateTimeOffset now)
    {
        if (_jobs.TryGetValue(job.Id, out var existing))
        {
            return existing.ToResult(EnqueueOutcome.DuplicateId);
        }

        if (job.UniqueKey is { } key
            && _uniqueKeys.TryGetValue((job.Tenant, key), out var holderId)
            && _jobs.TryGetValue(holderId, out var holder)
            && !holder.State.IsFinished()
            && holder.UniqueUntil > now)
        {
            return holder.ToResult(EnqueueOutcome.DuplicateUniqueKey);
        }

        return null;
    }
}
