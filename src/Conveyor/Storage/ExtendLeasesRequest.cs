namespace Conveyor.Storage;

/// <summary>Extend every lease a server holds, in one round trip, to now + <see cref="LeaseDuration"/>.</summary>
public sealed record ExtendLeasesRequest
{
    public required string ServerId { get; init; }

    public required IReadOnlyList<LeaseRef> Leases { get; init; }

    public required TimeSpan LeaseDuration { get; init; }
}
