namespace Conveyor.Storage;

/// <summary>Extend every lease a server holds, in one round trip, to now + <see cref="LeaseDuration"/>.</summary>
public sealed record ExtendLeasesRequest
{
    /// <summary>The server that holds the leases.</summary>
    public required string ServerId { get; init; }

    /// <summary>The leases to extend.</summary>
    public required IReadOnlyList<LeaseRef> Leases { get; init; }

    /// <summary>How long each lease lasts from now.</summary>
    public required TimeSpan LeaseDuration { get; init; }
}
