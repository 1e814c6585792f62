namespace Conveyor.Limits;

/// <summary>
/// Rate permits a server took from the store ahead of its jobs, per limiter key. A limit far from being hit then costs
/// one store call per lease instead of one per fetched batch. A lease never holds more than a quarter of the burst or
/// <see cref="Lifetime"/>'s worth of the rate; it starts at what a batch needs, doubles while the server spends whole
/// leases and halves when one expires unspent, so a trickle of jobs does not drain the burst with permits it drops.
/// What is left of a key's leases is dropped once none was granted for <see cref="Lifetime"/>, and after the store
/// refuses a lease the key goes back to a permit per job for <see cref="ContendedFor"/>: near the limit, starts follow
/// the store's turns exactly.
/// </summary>
internal sealed class RatePermitLeases
{
    /// <summary>The largest lease, however high the rate.</summary>
    internal const int MaxSize = 1024;

    /// <summary>How long leased permits stay usable after the key's last lease, and the rate's worth a lease may hold.</summary>
    internal static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a key whose lease was refused takes a permit per job before it tries a lease again.</summary>
    internal static readonly TimeSpan ContendedFor = TimeSpan.FromSeconds(1);

    // Per-tenant limits make one entry per tenant; past this many, expired entries are dropped once per lifetime.
    private const int PruneAbove = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private DateTimeOffset _prunedAt;

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
    /// The permits to ask the store for in one all-or-nothing lease when <paramref name="needed"/> are needed now (after
    /// <see cref="TakeLeased"/> took what was left), or 0 to ask for one permit per job: a limit too slow or with too
    /// small a burst to lease, a batch larger than a lease, or a key refused a lease lately.
    /// </summary>
    public int LeaseSize(RateLimitRule rule, string key, int needed, DateTimeOffset now)
    {
        var largest = (int)Math.Min(Math.Min(rule.Burst / 4, Lifetime.Ticks / rule.Interval.Ticks), MaxSize);
        if (largest < 2 || needed > largest)
        {
            return 0;
        }

        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                return needed;
            }

            if (entry.ContendedUntil > now)
            {
                return 0;
            }

            // Permits still on the entry here expired unspent: the last lease was too large.
            var size = entry.Remaining > 0 ? entry.Size / 2 : entry.Size * 2;
            return Math.Clamp(size, needed, largest);
        }
    }

    /// <summary>
    /// A lease of <paramref name="size"/> was granted and <paramref name="left"/> of it stays for the next jobs, added to
    /// what the key still holds (two batches can ask for a lease at once, and a permit the store granted must not be
    /// forgotten), all usable until <see cref="Lifetime"/> passes.
    /// </summary>
    public void Granted(string key, int size, int left, DateTimeOffset now)
    {
        lock (_lock)
        {
            Prune(now);
            var entry = _entries.GetValueOrDefault(key);
            var kept = entry.ExpiresAt > now ? entry.Remaining : 0;
            _entries[key] = entry with { Remaining = kept + left, ExpiresAt = now + Lifetime, Size = size };
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
        if (_entries.Count < PruneAbove || now - _prunedAt < Lifetime)
        {
            return;
        }

        _prunedAt = now;
        foreach (var (key, entry) in _entries)
        {
            if ((entry.Remaining == 0 || entry.ExpiresAt <= now) && entry.ContendedUntil <= now)
            {
                _entries.Remove(key);
            }
        }
    }

    private readonly record struct Entry(int Remaining, DateTimeOffset ExpiresAt, DateTimeOffset ContendedUntil, int Size);
}
