namespace Conveyor.Storage;

/// <summary>The small primitives that several servers sharing one store need: locks, idempotency records (processing, done), server registry.</summary>
public interface IJobCoordinationStore
{
    /// <summary>
    /// Takes the named lock for <paramref name="owner"/> until now + <paramref name="ttl"/>. True if it was free,
    /// expired, or already held by the same owner (then its expiry is extended).
    /// </summary>
    ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Releases the lock if <paramref name="owner"/> holds it; true if it did.</summary>
    ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Starts the work of an idempotency key for the attempt <paramref name="owner"/>, in one atomic step: the key becomes
    /// <c>processing</c>, owned by <paramref name="owner"/> until <paramref name="expiresAt"/> (the attempt's lease expiry),
    /// when there is no record, when the record expired (a <c>processing</c> record whose owner died, or a <c>done</c>
    /// record past its time to live), or when the record is <c>processing</c> under an earlier (or the same) lease of
    /// the same job. Otherwise nothing changes and the answer says why: <c>done</c> (by which job, when) or
    /// <c>processing</c> by another job (which, and when its record expires).
    /// </summary>
    async ValueTask<IdempotencyBeginResult> TryBeginIdempotencyKeyAsync(string key, LeaseRef owner, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        (await TryBeginIdempotencyKeysAsync([new IdempotencyBegin(key, owner, expiresAt)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// <see cref="TryBeginIdempotencyKeyAsync"/> for many keys in one store call (the server gathers the begins of the
    /// attempts that start together); each is its own compare-and-set, answered in the order given. Two begins of the
    /// same key in one call are taken in that order: the second finds the first's record.
    /// </summary>
    ValueTask<IReadOnlyList<IdempotencyBeginResult>> TryBeginIdempotencyKeysAsync(IReadOnlyList<IdempotencyBegin> begins, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the expiry of every claim that is still <c>processing</c> under its owner to <paramref name="expiresAt"/>,
    /// so that the record follows its attempt's lease while the handler runs (compare-and-set on the owner: a claim
    /// another attempt took over is left alone). Returns how many claims were extended.
    /// </summary>
    ValueTask<int> ExtendIdempotencyKeysAsync(IReadOnlyList<IdempotencyClaim> claims, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the key <c>done</c> by <paramref name="owner"/>'s job, finished now and kept until now + <paramref name="ttl"/>,
    /// when it is <c>processing</c> under <paramref name="owner"/> (expired or not), or when no other attempt holds it
    /// (no record, or an expired one). Returns false, changing nothing, when another attempt holds or finished it.
    /// </summary>
    ValueTask<bool> CompleteIdempotencyKeyAsync(string key, LeaseRef owner, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the key's record when it is <c>processing</c> under <paramref name="owner"/> (its attempt failed and a retry
    /// must be able to run). Returns true if it did; a record another attempt owns, or a <c>done</c> one, is left alone.
    /// </summary>
    ValueTask<bool> ReleaseIdempotencyKeyAsync(string key, LeaseRef owner, CancellationToken cancellationToken);

    /// <summary>
    /// Takes permits from rate limiters kept in the store, each request one atomic step, answered in the order given
    /// (two requests of one key in one call apply in that order). The generic cell rate algorithm: a key keeps one
    /// instant, its theoretical arrival time (TAT; none is as if it were now or earlier). With I = the request's
    /// <see cref="RatePermitRequest.Interval"/> in whole microseconds, B its burst and n its permits, at now:
    /// next = max(TAT, now) + n·I; the request is granted when next − B·I ≤ now, and TAT becomes next; otherwise
    /// nothing changes and <see cref="RatePermitResult.RetryAfter"/> is next − B·I − now. So a key grants one permit
    /// per I on average and at most B at once after a quiet period: over any window of length W at most
    /// B − 1 + ⌈W / I⌉ permits. A key whose TAT has passed holds nothing and may be deleted by the purge.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An interval under 1 µs, a burst under 1, or permits outside 1 – burst.</exception>
    ValueTask<IReadOnlyList<RatePermitResult>> TryAcquireRatePermitsAsync(IReadOnlyList<RatePermitRequest> requests, CancellationToken cancellationToken);

    /// <summary>Registers or refreshes a server.</summary>
    ValueTask HeartbeatServerAsync(ServerInfo server, CancellationToken cancellationToken);

    /// <summary>Removes a server at shutdown.</summary>
    ValueTask RemoveServerAsync(string serverId, CancellationToken cancellationToken);

    /// <summary>The servers whose registration has not expired, ordered by id.</summary>
    ValueTask<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken);
}
