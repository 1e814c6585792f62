using Conveyor.Storage;
using Microsoft.Extensions.Options;

namespace Conveyor.Limits;

/// <summary>
/// The limits this process applies: its configuration until the store's list is first read, then the store's list as
/// a server's <see cref="Server.LimitsRefresher"/> last read it. One immutable snapshot, swapped whole, so a reader
/// (each dequeue) pays one reference read.
/// </summary>
internal sealed class LimitsInForce(IOptions<ConveyorOptions> options)
{
    private readonly Lock _gate = new();
    private volatile ConveyorLimitsOptions? _fromStore;
    private IReadOnlyList<LimitRecord>? _records;
    private long _reads;
    private long _appliedRead;

    /// <summary>The limits in force; never changed in place.</summary>
    public ConveyorLimitsOptions Current => _fromStore ?? options.Value.Limits;

    /// <summary>The configured limits (the seed every server writes to the store).</summary>
    public ConveyorLimitsOptions Configured => options.Value.Limits;

    /// <summary>
    /// The stamp of a read of the store's list about to begin. Two readers (the refresher's tick, the Limits API after
    /// a change) apply in any order: the list of a read begun later is the newer, and one begun earlier never replaces it.
    /// </summary>
    public long BeginRead() => Interlocked.Increment(ref _reads);

    /// <summary>
    /// Makes the store's list, read after <paramref name="read"/> was taken, the limits in force, unless a later read
    /// was applied; the same records keep the snapshot in force (a new one would start the rate limiters afresh). A
    /// record written again (deleted and created again, or given back an earlier definition) is a new one: its rate
    /// limiter starts afresh (<see cref="RateLimitRule.KeyFor"/>).
    /// </summary>
    public void Apply(IReadOnlyList<LimitRecord> records, long read)
    {
        lock (_gate)
        {
            if (read < _appliedRead)
            {
                return;
            }

            _appliedRead = read;
            if (_records is not null && _records.Count == records.Count
                && records.All(r => _records.Any(p => LimitDefinitions.SameDefinition(p, r) && p.UpdatedAt == r.UpdatedAt)))
            {
                return;
            }

            _records = records;
            _fromStore = LimitDefinitions.ToOptions(records);
        }
    }
}
