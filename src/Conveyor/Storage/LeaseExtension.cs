namespace Conveyor.Storage;

/// <summary>What the store said about the leases a server tried to extend.</summary>
/// <param name="Lost">
/// Jobs no longer active under the given token (recovered after expiry, deleted, …). Their handlers must be
/// cancelled and their attempts never acknowledged.
/// </param>
/// <param name="CancelRequested">Jobs extended that have a cancellation request; their handlers' tokens must be cancelled.</param>
public sealed record LeaseExtension(IReadOnlyList<string> Lost, IReadOnlyList<string> CancelRequested)
{
    /// <summary>Nothing extended and nothing lost.</summary>
    public static LeaseExtension None { get; } = new([], []);
}
