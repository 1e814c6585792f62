namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    /// <remarks>Each queue keeps its finished jobs in two sets ordered by completion time, so a trim takes the oldest directly.</remarks>
    public ValueTask<int> TrimFinishedAsync(string queue, int? keepSucceeded, int? keepFailed, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(keepSucceeded ?? 0, nameof(keepSucceeded));
        ArgumentOutOfRangeException.ThrowIfNegative(keepFailed ?? 0, nameof(keepFailed));
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_queues.TryGetValue(queue, out var state))
            {
                return ValueTask.FromResult(0);
            }

            var deleted = Trim(state.Succeeded, keepSucceeded, limit);
            deleted += Trim(state.Unsuccessful, keepFailed, limit - deleted);
            return ValueTask.FromResult(deleted);
        }
    }

    private int Trim(SortedSet<TimedEntry> finished, int? keep, int limit)
    {
        if (keep is not { } kept || limit <= 0 || finished.Count <= kept)
        {
            return 0;
        }

        var oldest = finished.Take(Math.Min(finished.Count - kept, limit)).ToList();
        foreach (var entry in oldest)
        {
            Remove(_jobs[entry.JobId]);
        }

        return oldest.Count;
    }
}
