namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    private readonly Dictionary<string, (string Owner, DateTimeOffset ExpiresAt)> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IdempotencyRecord> _idempotencyKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServerInfo> _servers = new(StringComparer.Ordinal);

    // Completed and replaced at every signal. Continuations run asynchronously, never under the lock.
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // A signal that found no waiter is kept for the next wait: a worker that saw an empty queue just
    // before an enqueue must not sleep through it.
    private bool _unobservedSignal;
    private int _waiters;

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(owner);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_locks.TryGetValue(name, out var held) && held.ExpiresAt > now && !string.Equals(held.Owner, owner, StringComparison.Ordinal))
            {
                return ValueTask.FromResult(false);
            }

            _locks[name] = (owner, now + ttl);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(owner);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_locks.TryGetValue(name, out var held) || !string.Equals(held.Owner, owner, StringComparison.Ordinal))
            {
                return ValueTask.FromResult(false);
            }

            _locks.Remove(name);
            return ValueTask.FromResult(held.ExpiresAt > _time.GetUtcNow());
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<IdempotencyBeginResult>> TryBeginIdempotencyKeysAsync(IReadOnlyList<IdempotencyBegin> begins, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begins);
        foreach (var begin in begins)
        {
            ArgumentException.ThrowIfNullOrEmpty(begin.Key, nameof(begins));
            ArgumentException.ThrowIfNullOrEmpty(begin.Owner.JobId, nameof(begins));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var results = new IdempotencyBeginResult[begins.Count];
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            for (var i = 0; i < begins.Count; i++)
            {
                results[i] = TryBeginIdempotencyKey(begins[i], now);
            }
        }

        return ValueTask.FromResult<IReadOnlyList<IdempotencyBeginResult>>(results);
    }

    private IdempotencyBeginResult TryBeginIdempotencyKey(IdempotencyBegin begin, DateTimeOffset now)
    {
        if (_idempotencyKeys.TryGetValue(begin.Key, out var record) && record.ExpiresAt > now)
        {
            if (record.FinishedAt is { } finishedAt)
            {
                return IdempotencyBeginResult.AlreadyDone(record.Owner.JobId, finishedAt);
            }

            if (!string.Equals(record.Owner.JobId, begin.Owner.JobId, StringComparison.Ordinal))
            {
                return IdempotencyBeginResult.InProgress(record.Owner.JobId, record.ExpiresAt);
            }
        }

        _idempotencyKeys[begin.Key] = new IdempotencyRecord(begin.Owner, begin.ExpiresAt, null);
        return IdempotencyBeginResult.Started;
    }

    /// <inheritdoc />
    public ValueTask<int> ExtendIdempotencyKeysAsync(IReadOnlyList<IdempotencyClaim> claims, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        cancellationToken.ThrowIfCancellationRequested();
        var extended = 0;
        lock (_gate)
        {
            foreach (var claim in claims)
            {
                if (claim.Key is not null && _idempotencyKeys.TryGetValue(claim.Key, out var record)
                    && record.FinishedAt is null && record.Owner == claim.Owner)
                {
                    _idempotencyKeys[claim.Key] = record with { ExpiresAt = expiresAt };
                    extended++;
                }
            }
        }

        return ValueTask.FromResult(extended);
    }

    /// <inheritdoc />
    public ValueTask<bool> CompleteIdempotencyKeyAsync(string key, LeaseRef owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(owner.JobId, nameof(owner));
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(CompleteIdempotencyKey(key, owner, ttl, _time.GetUtcNow()));
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseIdempotencyKeyAsync(string key, LeaseRef owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(ReleaseIdempotencyKey(key, owner));
        }
    }

    /// <summary>Settles the idempotency record an acknowledgement carries (see <see cref="JobAcknowledgement.IdempotencyKey"/>); called under the gate.</summary>
    private void SettleIdempotencyKey(JobAcknowledgement ack, DateTimeOffset now)
    {
        var owner = new LeaseRef(ack.JobId, ack.LeaseToken);
        if (ack.CompletesIdempotencyKey)
        {
            CompleteIdempotencyKey(ack.IdempotencyKey!, owner, ack.IdempotencyKeepDoneFor, now);
        }
        else
        {
            ReleaseIdempotencyKey(ack.IdempotencyKey!, owner);
        }
    }

    private bool CompleteIdempotencyKey(string key, LeaseRef owner, TimeSpan ttl, DateTimeOffset now)
    {
        if (_idempotencyKeys.TryGetValue(key, out var record) && record.Owner != owner && record.ExpiresAt > now)
        {
            return false;
        }

        _idempotencyKeys[key] = new IdempotencyRecord(owner, now + ttl, now);
        return true;
    }

    private bool ReleaseIdempotencyKey(string key, LeaseRef owner)
    {
        if (_idempotencyKeys.TryGetValue(key, out var record) && record.FinishedAt is null && record.Owner == owner)
        {
            _idempotencyKeys.Remove(key);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public ValueTask HeartbeatServerAsync(ServerInfo server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _servers[server.Id] = server with { Queues = new Dictionary<string, int>(server.Queues, StringComparer.Ordinal) };
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask RemoveServerAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _servers.Remove(serverId);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ServerInfo>> ListServersAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var servers = _servers.Values
                .Where(s => s.ExpiresAt > now)
                .OrderBy(static s => s.Id, StringComparer.Ordinal)
                .ToArray();
            return ValueTask.FromResult<IReadOnlyList<ServerInfo>>(servers);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_gate)
        {
            if (_unobservedSignal)
            {
                _unobservedSignal = false;
                return true;
            }

            signal = _signal.Task;
            _waiters++;
        }

        try
        {
            // The timeout runs on the store's TimeProvider, so fake time drives it in tests. A timeout or a cancel is not
            // thrown (IJobQueueStore.WaitForJobsAsync).
            await signal.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return signal.IsCompleted;
        }
        finally
        {
            lock (_gate)
            {
                _waiters--;
            }
        }
    }

    /// <summary>Wakes every waiter: a job may have become ready. Called under the lock.</summary>
    private void Signal()
    {
        var signal = _signal;
        _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _unobservedSignal = _waiters == 0;
        signal.TrySetResult();
    }

    /// <summary>Drops expired idempotency records, locks and server registrations. Called under the lock.</summary>
    private void PurgeCoordination(DateTimeOffset now)
    {
        PurgeRateLimiters(now);
        foreach (var (key, record) in _idempotencyKeys)
        {
            if (record.ExpiresAt <= now)
            {
                _idempotencyKeys.Remove(key);
            }
        }

        foreach (var (name, held) in _locks)
        {
            if (held.ExpiresAt <= now)
            {
                _locks.Remove(name);
            }
        }

        foreach (var (id, server) in _servers)
        {
            if (server.ExpiresAt <= now)
            {
                _servers.Remove(id);
            }
        }
    }

    /// <summary>An idempotency record: <c>processing</c> while <paramref name="FinishedAt"/> is null, <c>done</c> after.</summary>
    private readonly record struct IdempotencyRecord(LeaseRef Owner, DateTimeOffset ExpiresAt, DateTimeOffset? FinishedAt);
}
