namespace Conveyor.Storage;

/// <summary>The small primitives that several servers sharing one store need: locks, idempotency records, server registry.</summary>
public interface IJobCoordinationStore
{
    /// <summary>
    /// Takes the named lock for <paramref name="owner"/> until now + <paramref name="ttl"/>. True if it was free,
    /// expired, or already held by the same owner (then its expiry is extended).
    /// </summary>
    ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Releases the lock if <paramref name="owner"/> holds it; true if it did.</summary>
    ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken);

    /// <summary>Records the key until now + <paramref name="ttl"/>. True if it was not recorded (or had expired), false if it is.</summary>
    ValueTask<bool> TryRecordIdempotencyKeyAsync(string key, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Forgets the key (so that a failed attempt can be tried again).</summary>
    ValueTask RemoveIdempotencyKeyAsync(string key, CancellationToken cancellationToken);

    /// <summary>Registers or refreshes a server.</summary>
    ValueTask HeartbeatServerAsync(ServerInfo server, CancellationToken cancellationToken);

    /// <summary>Removes a server at shutdown.</summary>
    ValueTask RemoveServerAsync(string serverId, CancellationToken cancellationToken);

    /// <summary>The servers whose registration has not expired, ordered by id.</summary>
    ValueTask<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken);
}
