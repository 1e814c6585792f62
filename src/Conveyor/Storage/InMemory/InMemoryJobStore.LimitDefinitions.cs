namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    private readonly SortedDictionary<(LimitKind Kind, string Name), LimitRecord> _limits = new(LimitKeyComparer.Instance);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LimitRecord>> ListLimitsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<LimitRecord>>(_limits.Values.ToArray());
        }
    }

    /// <inheritdoc />
    public ValueTask<LimitWriteResult> PutLimitAsync(LimitRecord limit, CancellationToken cancellationToken)
    {
        LimitRecords.Validate(limit);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var key = (limit.Kind, limit.Name);
            var exists = _limits.TryGetValue(key, out var existing);
            if (exists && existing!.Source == LimitSource.Api && limit.Source == LimitSource.Configuration)
            {
                return ValueTask.FromResult(LimitWriteResult.KeptApiLimit);
            }

            _limits[key] = LimitRecords.Normalize(limit) with { UpdatedAt = _time.GetUtcNow() };
            return ValueTask.FromResult(exists ? LimitWriteResult.Replaced : LimitWriteResult.Created);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteLimitAsync(LimitKind kind, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(_limits.Remove((kind, name)));
        }
    }

    private sealed class LimitKeyComparer : IComparer<(LimitKind Kind, string Name)>
    {
        public static readonly LimitKeyComparer Instance = new();

        public int Compare((LimitKind Kind, string Name) x, (LimitKind Kind, string Name) y)
        {
            var byKind = x.Kind.CompareTo(y.Kind);
            return byKind != 0 ? byKind : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}
