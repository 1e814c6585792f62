using System.Collections.Concurrent;
using System.Globalization;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// The Redis store: many worker processes on many machines share one Redis or Redis Cluster. Every state
/// transition is one Lua script on one queue's keys (one hash tag, so one Cluster slot); every timestamp comes
/// from the <see cref="TimeProvider"/>. Create one per process; it is safe to use from many threads.
/// </summary>
public sealed partial class RedisJobStore : IJobStore, IJobCancellationSignal, IAsyncDisposable
{
    private readonly RedisStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly RedisKeys _keys;
    private readonly bool _ownsConnection;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly ConcurrentDictionary<string, RedisKeys.QueueKeys> _queueKeys = new(StringComparer.Ordinal);
    private readonly QueueSuspensions _suspensions;
    private readonly ReplicaAcknowledgements _replication;
    private readonly ILogger _logger;

    // The queue of every job this instance leased, so that acknowledgements, lease extensions and progress
    // (which carry only the id) reach the job's slot in one round trip without the id lookup.
    private readonly ConcurrentDictionary<string, string> _leasedQueues = new(StringComparer.Ordinal);
    // Wake-ups this instance publishes carry its id, so that it does not wake itself a second time.
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private readonly string _wakeUp;
    private IConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private bool _disposed;
    private bool? _standalone;
    // The queue names last read from the set of queue names: where FindQueueAsync looks for a generated id.
    private string[] _knownQueueNames = [];
    // On a Cluster, the queues this instance knows the set of queue names holds (it wrote them or read them there), with
    // when (µs) that was last confirmed; see RegisterQueue.
    private readonly ConcurrentDictionary<string, long> _queuesInSet = new(StringComparer.Ordinal);
    private static readonly TimeSpan QueueSetRefresh = TimeSpan.FromMinutes(1);

    /// <summary>A store on a connection the caller owns (and disposes).</summary>
    /// <param name="connection">The connection, which the caller disposes.</param>
    /// <param name="options">The key prefix; the configuration string is not used.</param>
    /// <param name="timeProvider">Every timestamp the store writes, and its back-offs.</param>
    /// <param name="logger">Where the store reports a queue it leaves out while its node is away, and a storing across Cluster slots left to the promoter by an outage; none by default.</param>
    public RedisJobStore(IConnectionMultiplexer connection, RedisStoreOptions options, TimeProvider timeProvider, ILogger<RedisJobStore>? logger = null)
        : this(options, timeProvider, connection, logger)
    {
        ArgumentNullException.ThrowIfNull(connection);
    }

    /// <summary>A store that connects with <see cref="RedisStoreOptions.Configuration"/> and owns that connection.</summary>
    /// <param name="options">The configuration string and the key prefix.</param>
    /// <param name="timeProvider">Every timestamp the store writes, and its back-offs.</param>
    /// <param name="logger">Where the store reports a queue it leaves out while its node is away, and a storing across Cluster slots left to the promoter by an outage; none by default.</param>
    public RedisJobStore(RedisStoreOptions options, TimeProvider timeProvider, ILogger<RedisJobStore>? logger = null)
        : this(options, timeProvider, null, logger)
    {
    }

    private RedisJobStore(RedisStoreOptions options, TimeProvider timeProvider, IConnectionMultiplexer? connection, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (string.IsNullOrEmpty(options.KeyPrefix) || options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0 || options.KeyPrefix.Contains(' ', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Key prefix '{options.KeyPrefix}' must be non-empty, without braces or spaces.", nameof(options));
        }

        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _suspensions = new QueueSuspensions(timeProvider, _logger, ProbeQueueAsync);
        _replication = new ReplicaAcknowledgements(options, timeProvider);
        _keys = new RedisKeys(options.KeyPrefix);
        _wakeUp = $"{_keys.NotifyChannel}\n{_instanceId}";
        _connection = connection;
        _ownsConnection = connection is null;
        _database = connection?.GetDatabase();
        if (connection is not null)
        {
            _replication.Watch(connection);
        }
    }

    /// <inheritdoc />
    public string Name => "redis";

    /// <summary>The key prefix of this store.</summary>
    public string KeyPrefix => _keys.Prefix;

    internal RedisKeys Keys => _keys;

    /// <inheritdoc />
    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        // StackExchange.Redis takes no token: each step is awaited until the token ends the wait. A step left running
        // then (a connect, a script load, an upgrade, which every start runs again from where it is) ends on its own.
        try
        {
            var db = await DatabaseAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            await db.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            EnsureDatabaseExists(db);
            await LoadScriptsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            await UpgradeAsync(db).WaitAsync(cancellationToken).ConfigureAwait(false);
            await SubscribeAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e) && RedisFailures.IsAuthenticationFailure(e))
        {
            // Still an outage (a TLS handshake cut off shows the same way, and passes), but named first: an outside run's
            // server gave up on a wrong password after its start timeout with the cause deep in a long client message.
            throw new JobStoreUnavailableException(AuthenticationRefused + e.Message, e);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e) && _ownsConnection && _connection is { IsConnected: false })
        {
            // The client names a refusal only when its handshake got the answer to AUTH in time: a server that answers
            // is asked on a socket of its own, so that a wrong password is not taken for a Redis that does not run.
            var settings = RedisConnectionSettings.Create(_options.Configuration);
            if (await RedisAuthenticationProbe.RefusalAsync(settings, cancellationToken).ConfigureAwait(false) is var (endPoint, answer))
            {
                throw new JobStoreUnavailableException($"{AuthenticationRefused}Redis at {EndPointText(endPoint)} answered: {answer.TrimEnd('.')}. {e.Message}", e);
            }

            // Likewise where to look when the store's connection reaches no server: the client's own words name neither
            // the setting nor the addresses it was given.
            throw new JobStoreUnavailableException(
                $"Redis at {string.Join(", ", settings.EndPoints.Select(EndPointText))} is not connected: " +
                $"check that it runs there, and Conveyor:Redis:Configuration (its addresses, password=, ssl=). {RedisFailures.Unavailable(e).Message}", e);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    private const string AuthenticationRefused =
        "Redis refused the connection's authentication: check user= and password= (and ssl=) in Conveyor:Redis:Configuration. ";

    private static string EndPointText(System.Net.EndPoint endPoint) => endPoint switch
    {
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "",
    };

    /// <summary>
    /// A Redis Cluster has database 0 only: StackExchange.Redis then fails every command with "cannot switch to database",
    /// as a connection failure, which a server would retry until its start timeout as if Redis were away.
    /// </summary>
    private void EnsureDatabaseExists(IDatabase db)
    {
        if (db.Database != 0 && _connection!.GetServers().Any(static s => s.IsConnected && s.ServerType == ServerType.Cluster))
        {
            throw new InvalidOperationException(
                $"The Redis configuration sets defaultDatabase={db.Database}, but a Redis Cluster has database 0 only: " +
                "remove defaultDatabase from the configuration string (use a KeyPrefix to keep applications apart).");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await UnsubscribeAsync().ConfigureAwait(false);
        if (_ownsConnection && _connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _connectLock.Dispose();
    }

    private long NowMicros() => RedisTime.ToMicros(_time.GetUtcNow());

    private RedisKeys.QueueKeys QueueKeys(string queue) => _queueKeys.GetOrAdd(queue, static (q, keys) => keys.ForQueue(q), _keys);

    private ValueTask<IDatabase> DatabaseAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _database is { } db ? ValueTask.FromResult(db) : ConnectAsync();
    }

    private async ValueTask<IDatabase> ConnectAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_database is null)
            {
                var configuration = RedisConnectionSettings.Create(_options.Configuration);
                _connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                _replication.Watch(_connection);
                _database = _connection.GetDatabase();
            }

            return _database;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Runs a script by its SHA1 (EVALSHA), and by its text (EVAL, which loads it again) when the server lost it.</summary>
    private async Task<RedisResult> EvaluateAsync(IDatabaseAsync target, RedisScript script, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await target.ScriptEvaluateAsync(script.Sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (RedisFailures.IsNoScript(e))
        {
            // Only EVALSHA failed, so the script did not run: running it now is safe.
            return await _database!.ScriptEvaluateAsync(script.Text, keys, values, CommandFlags.NoScriptCache).ConfigureAwait(false);
        }
    }

    /// <summary>Loads every script on every primary, so that the first calls need no second round trip.</summary>
    private async Task LoadScriptsAsync()
    {
        foreach (var server in _connection!.GetServers())
        {
            if (server.IsConnected && !server.IsReplica)
            {
                foreach (var script in RedisScript.All)
                {
                    await server.ScriptLoadAsync(script.Text).ConfigureAwait(false);
                }
            }
        }
    }

    private Task<RedisResult> EvaluateQueueAsync(IDatabaseAsync target, RedisScript script, RedisKeys.QueueKeys queue, params RedisValue[] arguments)
    {
        var values = new RedisValue[arguments.Length + 2];
        values[0] = queue.JobPrefix;
        values[1] = queue.TenantPrefix;
        arguments.CopyTo(values, 2);
        return EvaluateAsync(target, script, queue.All, values);
    }

    /// <summary>
    /// True when Redis is one node (alone or with replicas), where a script may touch keys of several slots, so
    /// that enqueue.lua registers the queue in the same call. Until a server has answered, and in a Cluster (or
    /// behind a proxy), the registration is a command of its own.
    /// </summary>
    private bool RegistersQueueInScript()
    {
        if (_standalone is { } known)
        {
            return known;
        }

        foreach (var server in _connection!.GetServers())
        {
            if (server.IsConnected)
            {
                var standalone = server.ServerType == ServerType.Standalone;
                _standalone = standalone;
                return standalone;
            }
        }

        return false;
    }

    /// <summary>
    /// On a Cluster, where the set of queue names lives in a slot of its own: the write of <paramref name="queue"/> into
    /// that set that an enqueue awaits with its job's write, or null when this instance knows the set holds the queue.
    /// Only the first enqueue to a queue (per instance) writes the set in its round trip, so that a hung primary owning
    /// the set's slot holds up only that one, not every create on every queue; later ones re-add the queue in the
    /// background at most once per <see cref="QueueSetRefresh"/>, which puts it back in a set lost with a Redis that
    /// restarted without persistence or a failover that dropped the write (nothing removes a queue from the set).
    /// </summary>
    private Task? RegisterQueue(IDatabaseAsync target, string queue)
    {
        var now = NowMicros();
        if (!_queuesInSet.TryGetValue(queue, out var confirmed))
        {
            return RegisterFirstAsync(target.SetAddAsync(_keys.Queues, queue), queue);
        }

        if (now - confirmed >= RedisTime.ToMicros(QueueSetRefresh) && _queuesInSet.TryUpdate(queue, now, confirmed))
        {
            _ = ReAddQueueAsync(queue, now, confirmed);
        }

        return null;
    }

    private async Task RegisterFirstAsync(Task write, string queue)
    {
        try
        {
            await write.ConfigureAwait(false);
            _queuesInSet[queue] = NowMicros();
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            // The job's own write went on and decides the enqueue's outcome: a stored job is not reported as a failure.
            // Its queue must still reach the set, which promotion, recovery and lookups read, even if no other enqueue
            // to it comes: the write is tried again in the background until it is taken.
            if (_queuesInSet.TryAdd(queue, 0))
            {
                _ = RegisterUntilTakenAsync(queue);
            }
        }
    }

    private async Task RegisterUntilTakenAsync(string queue)
    {
        var wait = TimeSpan.FromMilliseconds(100);
        while (!_disposed)
        {
            try
            {
                await Task.Delay(wait, _time).ConfigureAwait(false);
                await _database!.SetAddAsync(_keys.Queues, queue).ConfigureAwait(false);
                _queuesInSet[queue] = NowMicros();
                return;
            }
#pragma warning disable CA1031 // Nobody awaits this write: any failure is tried again, until the store is disposed.
            catch (Exception)
#pragma warning restore CA1031
            {
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task ReAddQueueAsync(string queue, long claimed, long previous)
    {
        try
        {
            await _database!.SetAddAsync(_keys.Queues, queue).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Nobody awaits this write: on any failure, the next enqueue to the queue tries again.
        catch (Exception)
#pragma warning restore CA1031
        {
            _queuesInSet.TryUpdate(queue, previous, claimed);
        }
    }

    /// <summary>Remembers queues read from the set of queue names: enqueues to them need not write the set.</summary>
    private void SawQueuesInSet(string[] names)
    {
        var now = NowMicros();
        foreach (var name in names)
        {
            _queuesInSet.TryAdd(name, now);
        }
    }

    /// <summary>
    /// <paramref name="names"/> with the queues this instance wrote jobs to that the set lacks (its first write of them
    /// failed, or the set was lost with a Redis that restarted without persistence), put back into the set: promotion,
    /// recovery and lookups by id must not miss a queue that holds jobs.
    /// </summary>
    private async Task<string[]> WithQueuesMissingFromSetAsync(IDatabase db, string[] names)
    {
        if (_queuesInSet.Count <= names.Length)
        {
            return names;
        }

        var read = new HashSet<string>(names, StringComparer.Ordinal);
        var missing = _queuesInSet.Keys.Where(q => !read.Contains(q)).ToArray();
        if (missing.Length == 0)
        {
            return names;
        }

        await db.SetAddAsync(_keys.Queues, Array.ConvertAll(missing, static q => (RedisValue)q)).ConfigureAwait(false);
        var now = NowMicros();
        foreach (var queue in missing)
        {
            _queuesInSet[queue] = now;
        }

        return [.. names, .. missing];
    }

    private async Task<string[]> QueueNamesAsync(IDatabase db)
    {
        var members = await db.SetMembersAsync(_keys.Queues).ConfigureAwait(false);
        var names = new string[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            names[i] = (string)members[i]!;
        }

        SawQueuesInSet(names);
        names = await WithQueuesMissingFromSetAsync(db, names).ConfigureAwait(false);

        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    /// <summary>
    /// The queue of a job; null when there is no such job id. A caller-chosen id has a lookup key (its claim); a
    /// generated id has none, to save that key's memory on every job, so its queue is found by asking every
    /// queue whether it holds the job: one pipelined round trip over the queue names this instance knows; only
    /// when none holds it are the names read again, and the queues it had not seen asked.
    /// </summary>
    private async Task<string?> FindQueueAsync(IDatabase db, string jobId)
    {
        if (!JobId.IsValid(jobId))
        {
            return null;
        }

        if (!JobId.IsGenerated(jobId))
        {
            var lookup = await db.StringGetAsync(_keys.IdLookup(jobId)).ConfigureAwait(false);
            return lookup.IsNullOrEmpty ? null : ReadLookup((string)lookup!).Queue;
        }

        var known = _knownQueueNames;
        if (known.Length > 0 && await ProbeAsync(known).ConfigureAwait(false) is { } found)
        {
            return found;
        }

        var current = Array.ConvertAll(await db.SetMembersAsync(_keys.Queues).ConfigureAwait(false), name => (string)name!);
        SawQueuesInSet(current);
        current = await WithQueuesMissingFromSetAsync(db, current).ConfigureAwait(false);
        _knownQueueNames = current;
        var unseen = Array.FindAll(current, name => Array.IndexOf(known, name) < 0);
        return unseen.Length == 0 ? null : await ProbeAsync(unseen).ConfigureAwait(false);

        async Task<string?> ProbeAsync(string[] queues)
        {
            var batch = db.CreateBatch();
            var probes = Array.ConvertAll(queues, queue => batch.KeyExistsAsync(QueueKeys(queue).Job(jobId)));
            batch.Execute();
            string? holder = null;
            for (var i = 0; i < probes.Length; i++)
            {
                if (await probes[i].ConfigureAwait(false) && holder is null)
                {
                    holder = queues[i];
                }
            }

            return holder;
        }
    }

    /// <summary>
    /// How long an id lookup's in-progress mark keeps a caller-chosen id from enqueues into other queues while its job is
    /// not stored: far beyond the two round trips from claim to store, so that only an enqueue that stopped between them
    /// (its process died) leaves the id to another queue, after this long.
    /// </summary>
    private static readonly TimeSpan ClaimMarkLifetime = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The id lookup's value while an enqueue stores its job: "queue\tclaimed-at\theld-until" (µs), read by the
    /// store and by enqueue_all.lua; the held-until travels with the mark so that no script needs the lifetime.
    /// </summary>
    private static string ClaimMark(string queue, long now) =>
        string.Create(CultureInfo.InvariantCulture, $"{queue}\t{now}\t{now + RedisTime.ToMicros(ClaimMarkLifetime)}");

    /// <summary>The queue an id lookup names and, for an in-progress mark, its claimed-at and held-until (µs).</summary>
    private static (string Queue, (long ClaimedAt, long HeldUntil)? Mark) ReadLookup(string lookup)
    {
        var parts = lookup.Split('\t');
        if (parts.Length == 1)
        {
            return (lookup, null);
        }

        // A mark that does not parse holds nothing (held until 0): the id is taken over as from an enqueue that stopped.
        _ = long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var claimedAt);
        var heldUntil = parts.Length == 3 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var until) ? until : 0;
        return (parts[0], (claimedAt, heldUntil));
    }

    /// <summary>Writes the id lookups of stored jobs where none is left (one pipelined round trip); an existing lookup stays.</summary>
    private async Task KeepLookupsAsync(IDatabase db, IEnumerable<(string Id, string Queue)> jobs)
    {
        var batch = db.CreateBatch();
        var writes = jobs.Select(j => batch.StringSetAsync(_keys.IdLookup(j.Id), j.Queue, when: When.NotExists)).ToList();
        if (writes.Count > 0)
        {
            batch.Execute();
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
    }

    private static void EnsureQueueName(string queue)
    {
        if (!QueueName.IsValid(queue))
        {
            throw new ArgumentException($"Queue name '{queue}' is not valid: 1 to {QueueName.MaxLength} characters of letters, digits, '_', '-' and '.'.", nameof(queue));
        }
    }
}
