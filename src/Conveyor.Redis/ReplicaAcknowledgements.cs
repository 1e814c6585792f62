using System.Globalization;
using System.Net;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// <see cref="RedisStoreOptions.WaitForReplicas"/>: waits until that many replicas of a primary have the writes this
/// process sent it, with Redis's <c>WAIT</c> on the connection the writes went through. <c>WAIT</c> holds that connection
/// until it answers, and every call of the process shares it, so there is at most one <c>WAIT</c> in flight per primary:
/// the creates that finished their writes while one was in flight share the next (group commit, as a <c>WAIT</c> covers
/// every earlier write of its connection). After an answer with too few replicas, creates on that primary fail at once
/// for <see cref="RedisStoreOptions.WaitForReplicasTimeout"/>, without a <c>WAIT</c>, so that a replica that is down does
/// not keep the connection blocked back to back.
/// </summary>
internal sealed class ReplicaAcknowledgements
{
    private readonly int _replicas;
    private readonly TimeSpan _timeout;
    private readonly long _timeoutMs;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<EndPoint, Lane> _lanes = [];
    private long _connectionChanges;
    private int _shortLanes;

    public ReplicaAcknowledgements(RedisStoreOptions options, TimeProvider time)
    {
        _replicas = options.WaitForReplicas;
        _timeout = options.WaitForReplicasTimeout;
        _timeoutMs = (long)Math.Ceiling(_timeout.TotalMilliseconds);
        _time = time;
    }

    public bool Enabled => _replicas > 0;

    /// <summary>Whether the last <c>WAIT</c> of some primary answered too few replicas.</summary>
    public bool AnyShort => Volatile.Read(ref _shortLanes) > 0;

    /// <summary>
    /// Counts the interactive connections lost or restored. A <c>WAIT</c> counts from its connection's own last write: on
    /// a connection made again after the writes, it would answer for writes it never saw.
    /// </summary>
    public long ConnectionChanges => Volatile.Read(ref _connectionChanges);

    public void Watch(IConnectionMultiplexer connection)
    {
        connection.ConnectionFailed += Changed;
        connection.ConnectionRestored += Changed;
    }

    /// <summary>
    /// Waits until the writes this process made on <paramref name="servers"/> before the call are on enough replicas;
    /// throws <see cref="JobStoreUnavailableException"/> when they are not (the writes may be stored, or lost at a
    /// failover), or when a connection changed since <paramref name="connectionChangesBefore"/>.
    /// </summary>
    public async Task EnsureAsync(IReadOnlyCollection<IServer> servers, long connectionChangesBefore)
    {
        var waits = new List<Task<(EndPoint Endpoint, long Acknowledged)>>(servers.Count);
        foreach (var server in servers)
        {
            waits.Add(WaitAsync(server));
        }

        foreach (var wait in waits)
        {
            var (endpoint, acknowledged) = await wait.ConfigureAwait(false);
            if (acknowledged < _replicas)
            {
                throw new JobStoreUnavailableException(
                    $"Redis at {endpoint} had the write on {Within(acknowledged)}: it may be lost if that primary fails over, or may be stored. " +
                    "Retry with the same job ids or Idempotency-Key; check the primary's replicas (INFO replication).");
            }
        }

        if (ConnectionChanges != connectionChangesBefore)
        {
            throw new JobStoreUnavailableException(
                "A connection to Redis was lost or made again while the write was being replicated (Conveyor:Redis:WaitForReplicas): " +
                "it may be stored, or lost at a failover. Retry with the same job ids or Idempotency-Key.");
        }
    }

    /// <summary>
    /// Before a create's writes: refuses it, with nothing written, on a primary whose last <c>WAIT</c> answered too few
    /// replicas. Within <see cref="RedisStoreOptions.WaitForReplicasTimeout"/> of that answer the refusal is at once;
    /// after it, a <c>WAIT</c> asks the primary again first. So while a primary is short of replicas its creates answer
    /// unavailable without being stored, where they were stored and then answered unavailable (in doubt), and a caller
    /// that repeated them without an Idempotency-Key made one more job each time.
    /// </summary>
    public async Task EnsureWritableAsync(IReadOnlyCollection<IServer> servers)
    {
        foreach (var server in servers)
        {
            lock (_lock)
            {
                if (!_lanes.TryGetValue(server.EndPoint, out var lane) || !lane.Short)
                {
                    continue;
                }
            }

            (EndPoint Endpoint, long Acknowledged) answer;
            try
            {
                answer = await WaitAsync(server).ConfigureAwait(false);
            }
            catch (JobStoreUnavailableException e)
            {
                throw new JobStoreUnavailableException(
                    $"Redis at {server.EndPoint} could not be asked whether its replicas are back (Conveyor:Redis:WaitForReplicas): " +
                    "the create was refused before anything was written.", e)
                {
                    NothingWritten = true,
                };
            }

            var (endpoint, acknowledged) = answer;
            if (acknowledged < _replicas)
            {
                throw new JobStoreUnavailableException(
                    $"Redis at {endpoint} has the writes of this process on {Within(acknowledged)}: the create was refused " +
                    "before anything was written. Check the primary's replicas (INFO replication).")
                {
                    NothingWritten = true,
                };
            }
        }
    }

    private string Within(long acknowledged) =>
        string.Create(CultureInfo.InvariantCulture, $"{acknowledged} of the {_replicas} replicas Conveyor:Redis:WaitForReplicas asks for within {_timeout.TotalMilliseconds} ms");

    private async Task<(EndPoint Endpoint, long Acknowledged)> WaitAsync(IServer server)
    {
        var endpoint = server.EndPoint;
        Lane lane;
        long ticket;
        lock (_lock)
        {
            if (!_lanes.TryGetValue(endpoint, out lane!))
            {
                _lanes[endpoint] = lane = new Lane();
            }

            if (_time.GetTimestamp() < lane.ShortUntil)
            {
                return (endpoint, lane.LastAnswer);
            }

            ticket = ++lane.Requested;
        }

        await lane.Turn.WaitAsync().ConfigureAwait(false);
        try
        {
            long upTo;
            lock (_lock)
            {
                // A WAIT sent after this request covers it: its writes had finished when it was made. One that answered
                // too few replicas meanwhile answers for this one too, as for any create in its window.
                if (lane.Covered >= ticket || _time.GetTimestamp() < lane.ShortUntil)
                {
                    return (endpoint, lane.LastAnswer);
                }

                upTo = lane.Requested;
            }

            var acknowledged = await SendAsync(server).ConfigureAwait(false);
            lock (_lock)
            {
                lane.Covered = upTo;
                lane.LastAnswer = acknowledged;
                MarkShort(lane, acknowledged < _replicas);

                lane.ShortUntil = acknowledged < _replicas ? _time.GetTimestamp() + (long)(_timeout.TotalSeconds * _time.TimestampFrequency) : 0;
            }

            return (endpoint, acknowledged);
        }
        finally
        {
            lane.Turn.Release();
        }
    }

    private async Task<long> SendAsync(IServer server)
    {
        try
        {
            return (long)await server.ExecuteAsync("WAIT", _replicas, _timeoutMs).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A node demoted by a failover ("WAIT cannot be used with replica instances"), a connection lost, a client
            // timeout: the writes are in doubt, which is what unavailable says.
            throw new JobStoreUnavailableException(
                $"Redis at {server.EndPoint} could not confirm the write on its replicas (Conveyor:Redis:WaitForReplicas): {e.Message} " +
                "It may be stored, or lost at a failover. Retry with the same job ids or Idempotency-Key.", e);
        }
    }

    private void Changed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            Interlocked.Increment(ref _connectionChanges);

            // A node whose connection failed or came back may no longer be a primary (a failover demoted it), and no
            // WAIT would then be sent to it again to clear its mark: without this, every create kept paying for the
            // check before its writes for the life of the process (the review).
            lock (_lock)
            {
                if (e.EndPoint is { } endpoint && _lanes.TryGetValue(endpoint, out var lane))
                {
                    MarkShort(lane, false);
                    lane.ShortUntil = 0;
                }
            }
        }
    }

    // Under _lock: the lane's mark and the count of marked lanes change together.
    private void MarkShort(Lane lane, bool isShort)
    {
        if (lane.Short != isShort)
        {
            lane.Short = isShort;
            _shortLanes += isShort ? 1 : -1;
        }
    }

    private sealed class Lane
    {
        public readonly SemaphoreSlim Turn = new(1, 1);
        public long Requested;
        public long Covered;
        public long LastAnswer;
        public long ShortUntil;

        // The last WAIT answered too few replicas: creates ask again before they write (EnsureWritableAsync).
        public bool Short;
    }
}
