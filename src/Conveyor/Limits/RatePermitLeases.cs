namespace Conveyor.Limits;

/// <summary>
/// Rate permits a server took from the store ahead of its jobs, per limiter key. A limit far from being hit then costs
/// one store call per lease instead of one per fetched batch. A lease is taken only for a limit whose burst allows four
/// of them at once, what is left of a key's leases is dropped once none was granted for <see cref="Lifetime"/>, and
/// after the store refuses one the key goes back to a permit per job for <see cref="ContendedFor"/>: near the limit,
/// starts follow the store's turns exactly.
/// </summary>
internal sealed class RatePermitLeases
{
    /// <summary>The permits a lease asks for when the burst allows it (more when one batch needs more).</summary>
    internal const int TargetSize = 128;

    /// <summary>How long leased permits stay usable after the key's last lease: a server that stops wastes at most its leases' rest.</summary>
    internal static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a key whose lease was refused takes a permit per job before it tries a lease again.</summary>
    internal static readonly TimeSpan ContendedFor = TimeSpan.FromSeconds(1);

    // Per-tenant limits make one entry per tenant; past this many, expired entries are dropped.
    private const int PruneAbove = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Takes up to <paramref name="wanted"/> leased permits of <paramref name="key"/>; returns how many it took.</summary>
    public int TakeLeased(string key, int wanted, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var entry) || entry.Remaining == 0 || entry.ExpiresAt <= now)
            {
                return 0;
            }

            var taken = Math.Min(wanted, entry.Remaining);
            _entries[key] = entry with { Remaining = entry.Remaining - taken };
            return taken;
        }
    }

    /// <summary>
    /// The permits to ask the store for in one all-or-nothing lease when <paramref name="needed"/> are needed now, or
    /// 0 to ask for one permit per job (a small burst, a batch larger than a lease, or a key refused a lease lately).
    /// </summary>
    public int LeaseSize(RateLimitRule rule, string key, int needed, DateTimeOffset now)
    {
        var largest = rule.Burst / 4;
        if (largest < 2 || needed > largest)
        {
            return 0;
        }

        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.ContendedUntil > now)
            {
                return 0;
            }
        }

        return Math.Min(largest, Math.Max(needed, TargetSize));
    }

    /// <summary>
    /// A lease was granted: <paramref name="left"/> permits join those still leased (two batches can ask for a lease at
    /// once, and a permit the store granted must not be forgotten), all usable until <see cref="Lifetime"/> passes.
    /// </summary>
    public void Granted(string key, int left, DateTimeOffset now)
    {
        lock (_lock)
        {
            Prune(now);
            var entry = _entries.GetValueOrDefault(key);
            var kept = entry.ExpiresAt > now ? entry.Remaining : 0;
            _entries[key] = entry with { Remaining = kept + left, ExpiresAt = now + Lifetime };
        }
    }

    /// <summary>A lease was refused: the limit is near, so the key takes a permit per job for a while (after spending what it still holds).</summary>
    public void Refused(string key, DateTimeOffset now)
    {
        lock (_lock)
        {
            Prune(now);
            _entries[key] = _entries.GetValueOrDefault(key) with { ContendedUntil = now + ContendedFor };
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (_entries.Count < PruneAbove)
        {
            return;
        }

        foreach (var (key, entry) in _entries)
        {
            if ((entry.Remaining == 0 || entry.ExpiresAt <= now) && entry.ContendedUntil <= now)
            {
                _entries.Remove(key);
            }
        }
    }

    private readonly record struct Entry(int Remaining, DateTimeOffset ExpiresAt, DateTimeOffset ContendedUntil);
}
