namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    private readonly SortedDictionary<(string Tenant, string Name), ScheduleRecord> _schedules = new(ScheduleKeyComparer.Instance);

    /// <inheritdoc />
    public ValueTask<bool> TryCreateScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var key = (schedule.Tenant, schedule.Name);
            if (_schedules.ContainsKey(key))
            {
                return ValueTask.FromResult(false);
            }

            var now = _time.GetUtcNow();
            _schedules[key] = Copy(schedule) with { CreatedAt = now, UpdatedAt = now, LastFireAt = null, LastJobId = null, Revision = Random.Shared.NextInt64(1L << 52) };
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> TryReplaceScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var key = (schedule.Tenant, schedule.Name);
            if (!_schedules.TryGetValue(key, out var existing) || existing.Revision != schedule.Revision)
            {
                return ValueTask.FromResult(false);
            }

            _schedules[key] = Copy(schedule) with
            {
                CreatedAt = existing.CreatedAt,
                UpdatedAt = _time.GetUtcNow(),
                LastFireAt = existing.LastFireAt,
                LastJobId = existing.LastJobId,
                Revision = existing.Revision + 1,
            };
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<ScheduleRecord?> GetScheduleAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(_schedules.GetValueOrDefault((tenant, name)));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string? tenant, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var list = _schedules.Values.Where(s => tenant is null || string.Equals(s.Tenant, tenant, StringComparison.Ordinal)).ToArray();
            return ValueTask.FromResult<IReadOnlyList<ScheduleRecord>>(list);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var due = _schedules.Values
                .Where(s => !s.Paused && s.NextFireAt is { } next && next <= until)
                .OrderBy(static s => s.NextFireAt)
                .Take(limit)
                .ToArray();
            return ValueTask.FromResult<IReadOnlyList<ScheduleRecord>>(due);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> TryRecordScheduleFireAsync(ScheduleFire fire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fire);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var key = (fire.Tenant, fire.Name);
            if (!_schedules.TryGetValue(key, out var existing) || existing.NextFireAt != fire.ExpectedNextFireAt)
            {
                return ValueTask.FromResult(false);
            }

            _schedules[key] = existing with
            {
                NextFireAt = fire.NextFireAt,
                LastFireAt = fire.LastFireAt,
                LastJobId = fire.LastJobId ?? existing.LastJobId,
                Revision = existing.Revision + 1,
            };
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteScheduleAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(_schedules.Remove((tenant, name)));
        }
    }

    // The caller keeps its payload buffer: the store holds a copy.
    private static ScheduleRecord Copy(ScheduleRecord schedule) => schedule with { Payload = schedule.Payload.ToArray() };

    private sealed class ScheduleKeyComparer : IComparer<(string Tenant, string Name)>
    {
        public static readonly ScheduleKeyComparer Instance = new();

        public int Compare((string Tenant, string Name) x, (string Tenant, string Name) y)
        {
            var byTenant = string.CompareOrdinal(x.Tenant, y.Tenant);
            return byTenant != 0 ? byTenant : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}
