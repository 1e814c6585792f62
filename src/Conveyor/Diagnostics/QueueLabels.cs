using System.Collections.Frozen;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Diagnostics;

/// <summary>
/// The <c>queue</c> label of the "Conveyor" meter: a queue's own name when the queue is known, <c>"(other)"</c> for every
/// other queue. Known are the default queue, the queues this process's servers serve, and the queues a live server of the
/// registry (<see cref="IJobCoordinationStore.ListServersAsync"/>) served in one of this process's reads of the last
/// <see cref="ServedQueuesKeptFor"/>, at most <see cref="ConveyorMetricsOptions.MaxQueues"/> of them besides the default
/// in ordinal order. A queue whose servers all died keeps its name: its latency alert goes on firing under it rather
/// than resolving into <c>(other)</c>. <c>POST /jobs</c> accepts any queue name, so
/// the names that reach the counters are the callers'; the registry is the operators', and every process reads the
/// same one, so two processes (an API and a worker, two servers publishing the store gauges) label a queue alike and
/// <c>max by (queue)</c> and <c>sum by (queue)</c> stay right.
/// </summary>
/// <remarks>
/// A lookup is one frozen-set lookup and one clock read: it never waits for the store. The registry is read in the
/// background: first when the metrics are created (an API process's first jobs then find the servers' queues known),
/// then at most once per <see cref="RefreshEvery"/>, when a lookup finds it due, and with every read of the store
/// gauges. A read that fails keeps the last known set (until a first read succeeds, it is tried again after
/// <see cref="RetryFirstReadAfter"/>).
/// </remarks>
internal sealed class QueueLabels
{
    /// <summary>The <c>queue</c> of the queues that are not known; never a queue's name (names have no parentheses).</summary>
    public const string Other = "(other)";

    /// <summary>How long one read of the registry is used: as long as a server's entry lives after its last beat.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How soon a failed read is tried again while no read has succeeded yet: the first read may come before the store
    /// is initialized (the metrics are created as the host is built), and until one succeeds only the own queues are known.
    /// </summary>
    public static readonly TimeSpan RetryFirstReadAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a queue stays known after the last read that found a live server serving it: long enough that the
    /// queue's alerts and panels outlive an outage of its workers, a redeploy or a night without them.
    /// </summary>
    public static readonly TimeSpan ServedQueuesKeptFor = TimeSpan.FromHours(24);

    private readonly IServiceProvider? _services;
    private readonly TimeProvider _timeProvider;
    private readonly int _max;
    private readonly TimeSpan _readTimeout;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _own = new(StringComparer.Ordinal);

    // Each queue a read found served, and when: a read that comes back late only moves a time forward, never back, so it
    // cannot make a queue unknown that a newer read found.
    private readonly Dictionary<string, DateTimeOffset> _served = new(StringComparer.Ordinal);
    private volatile FrozenSet<string> _known;
    private long _nextRefreshAt;
    private volatile bool _hasRead;
    private int _failedFirstReads;
    private Task _refreshing = Task.CompletedTask;

    /// <summary>Labels that read the registry of the store <paramref name="services"/> holds; without it, only the default and own queues are known.</summary>
    public QueueLabels(IServiceProvider? services, TimeProvider timeProvider, ConveyorMetricsOptions options)
    {
        _services = services;
        _timeProvider = timeProvider;
        _max = options.MaxQueues;
        _readTimeout = options.StoreTimeout;
        _known = Known(timeProvider.GetUtcNow());
    }

    /// <summary>The known queues now, in no order (for tests).</summary>
    public FrozenSet<string> KnownQueues => _known;

    /// <summary>The label of <paramref name="queue"/>: its name when it is known, <see cref="Other"/> when not.</summary>
    public string Of(string queue)
    {
        RefreshIfDue();
        return _known.Contains(queue) ? queue : Other;
    }

    /// <summary>Makes <paramref name="queues"/> (those a server of this process serves, at its start) known from now on.</summary>
    public void AddOwn(IEnumerable<string> queues)
    {
        lock (_gate)
        {
            var before = _own.Count;
            _own.UnionWith(queues);
            if (_own.Count != before)
            {
                _known = Known(_timeProvider.GetUtcNow());
            }
        }
    }

    /// <summary>
    /// Takes the queues of the live servers among <paramref name="servers"/>, read at <paramref name="now"/> (a read of the
    /// store gauges passes what it read), as served then; forgets those not seen served for
    /// <see cref="ServedQueuesKeptFor"/>; and puts the next background read <see cref="RefreshEvery"/> away.
    /// </summary>
    public void Update(IReadOnlyList<ServerInfo> servers, DateTimeOffset now)
    {
        _hasRead = true;
        Volatile.Write(ref _nextRefreshAt, _timeProvider.GetTimestamp() + Ticks(RefreshEvery));
        lock (_gate)
        {
            var changed = false;
            foreach (var queue in servers.Where(s => s.ExpiresAt > now).SelectMany(static s => s.Queues.Keys))
            {
                if (!_served.TryGetValue(queue, out var seen))
                {
                    changed = true;
                }

                if (now > seen)
                {
                    _served[queue] = now;
                }
            }

            var cutoff = _timeProvider.GetUtcNow() - ServedQueuesKeptFor;
            foreach (var (queue, seen) in _served)
            {
                if (seen <= cutoff)
                {
                    _served.Remove(queue);
                    changed = true;
                }
            }

            if (changed)
            {
                _known = Known(_timeProvider.GetUtcNow());
            }
        }
    }

    /// <summary>
    /// The statistics of <paramref name="queues"/> as the gauges label them: the known queues each under its name, the
    /// others merged under <see cref="Other"/> (their jobs summed by state, the oldest pending job's wait, paused when
    /// one of them is), after the known ones.
    /// </summary>
    public IReadOnlyList<QueueStats> Label(IReadOnlyList<QueueStats> queues)
    {
        var known = _known;
        List<QueueStats>? labelled = null;
        QueueStats? other = null;
        for (var i = 0; i < queues.Count; i++)
        {
            var queue = queues[i];
            if (known.Contains(queue.Queue))
            {
                labelled?.Add(queue);
                continue;
            }

            labelled ??= [.. queues.Take(i)];
            other = other is null ? queue with { Queue = Other } : Merge(other, queue);
        }

        if (labelled is null)
        {
            return queues;
        }

        labelled.Add(other!);
        return labelled;
    }

    /// <summary>The background read of the registry, for tests to await; completed when none is under way.</summary>
    internal Task Refreshing => Volatile.Read(ref _refreshing);

    /// <summary>Starts a read of the registry in the background when one is due (at once, the first time).</summary>
    public void RefreshIfDue()
    {
        if (_services is null)
        {
            return;
        }

        var due = Volatile.Read(ref _nextRefreshAt);
        var now = _timeProvider.GetTimestamp();
        if (now < due || Interlocked.CompareExchange(ref _nextRefreshAt, now + Ticks(RefreshEvery), due) != due)
        {
            return;
        }

        Volatile.Write(ref _refreshing, Task.Run(RefreshAsync));
    }

    private async Task RefreshAsync()
    {
        try
        {
            var store = _services!.GetRequiredService<IJobStore>();
            using var timeout = new CancellationTokenSource(_readTimeout, _timeProvider);

            // WaitAsync too: a store call that ignores its token must not hold the next read back past the bound.
            var servers = await store.ListServersAsync(timeout.Token).AsTask().WaitAsync(_readTimeout, _timeProvider).ConfigureAwait(false);
            Update(servers, _timeProvider.GetUtcNow());
        }
#pragma warning disable CA1031 // An unreadable registry keeps the last known queues; the store gauges report the store's faults.
        catch (Exception)
#pragma warning restore CA1031
        {
            if (!_hasRead)
            {
                // Soon while nothing is known but the own queues, backing off to the usual period for a registry that
                // stays unreadable (a store without one, a wrong password): 1, 2, 4, 8, then every 15 s.
                var failed = Interlocked.Increment(ref _failedFirstReads);
                var retry = TimeSpan.FromTicks(Math.Min(RefreshEvery.Ticks, RetryFirstReadAfter.Ticks << Math.Min(failed - 1, 8)));
                Volatile.Write(ref _nextRefreshAt, _timeProvider.GetTimestamp() + Ticks(retry));
            }
        }
    }

    /// <summary>
    /// The default queue, and the own queues and those served in the last <see cref="ServedQueuesKeptFor"/> cut to the
    /// first <see cref="_max"/> in ordinal order (called under the gate).
    /// </summary>
    private FrozenSet<string> Known(DateTimeOffset now)
    {
        var cutoff = now - ServedQueuesKeptFor;
        var known = new HashSet<string>(_own, StringComparer.Ordinal);
        known.UnionWith(_served.Where(s => s.Value > cutoff).Select(static s => s.Key));
        known.Remove(QueueName.Default);

        // The same order in every process: own queues first would label a queue past the cap differently in each. The
        // default queue is named in every process, whatever sorts before it.
        return (known.Count <= _max ? known : known.Order(StringComparer.Ordinal).Take(_max))
            .Append(QueueName.Default)
            .ToFrozenSet(StringComparer.Ordinal);
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _timeProvider.TimestampFrequency);

    private static QueueStats Merge(QueueStats into, QueueStats queue) => into with
    {
        Paused = into.Paused || queue.Paused,
        Scheduled = into.Scheduled + queue.Scheduled,
        Pending = into.Pending + queue.Pending,
        Active = into.Active + queue.Active,
        Retrying = into.Retrying + queue.Retrying,
        Succeeded = into.Succeeded + queue.Succeeded,
        Partial = into.Partial + queue.Partial,
        Failed = into.Failed + queue.Failed,
        Cancelled = into.Cancelled + queue.Cancelled,
        Waiting = into.Waiting + queue.Waiting,
        OldestPendingSince = into.OldestPendingSince is not { } a ? queue.OldestPendingSince
            : queue.OldestPendingSince is not { } b ? a
            : a < b ? a : b,
    };
}
