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
    private volatile ConveyorLimitsOptions? _fromStore;

    /// <summary>The limits in force; never changed in place.</summary>
    public ConveyorLimitsOptions Current => _fromStore ?? options.Value.Limits;

    /// <summary>The configured limits (the seed every server writes to the store).</summary>
    public ConveyorLimitsOptions Configured => options.Value.Limits;

    /// <summary>Makes the store's list the limits in force.</summary>
    public void Apply(IReadOnlyList<LimitRecord> records) => _fromStore = LimitDefinitions.ToOptions(records);
}
