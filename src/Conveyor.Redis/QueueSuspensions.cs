using Microsoft.Extensions.Logging;

namespace Conveyor.Redis;

/// <summary>
/// The queues a dequeue leaves out for a while because their node failed as unavailable while other queues' nodes
/// answered: on a Redis Cluster whose primary hangs, its queues' calls each wait out the client's timeout, and a
/// dequeue that asked them would hold up the queues of the healthy primaries as long. A suspended queue is left out for
/// a back-off of 1 s, doubling while it keeps failing up to 5 s. Once the back-off has passed, the next dequeue that
/// would ask the queue starts a probe of its node (a read that leases nothing) and goes on without it; the queue is
/// asked again once the probe answers, and a probe that fails starts the next back-off. So no dequeue waits on the hung
/// node after the first, and only the first dequeue's calls of an outage, which timed out, may lease jobs when the node
/// resumes (the server's lease reconciler hands them back). The suspension is logged when it begins and when it ends,
/// so once per outage. A store with no queue suspended takes no lock.
/// </summary>
internal sealed partial class QueueSuspensions(TimeProvider time, ILogger logger, Func<string, Task> probe)
{
    /// <summary>The first back-off of a queue that failed.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off: a queue whose node is back waits at most about this long to be asked again.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Suspension> _suspended = new(StringComparer.Ordinal);

    // _suspended.Count, written under the lock and read without it: 0 on every dequeue of a healthy store.
    private int _count;

    // Moved by every failure recorded: a success seen by a call sent before a failure does not end its suspension.
    private long _generation;

    /// <summary>
    /// Read before a dequeue sends its calls and passed to <see cref="Succeeded"/>: a call that answered before its node
    /// hung, in a dequeue slower than the one that then suspended the queue, does not end that suspension.
    /// </summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// Whether a dequeue leaves <paramref name="queue"/> out. When its back-off has passed, this starts the probe of its
    /// node, once; the queue stays out until the probe answers.
    /// </summary>
    public bool IsSuspended(string queue)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (!_suspended.TryGetValue(queue, out var suspension))
            {
                return false;
            }

            if (suspension.Probing || time.GetUtcNow() < suspension.Until)
            {
                return true;
            }

            _suspended[queue] = suspension with { Probing = true };
        }

        _ = ProbeAsync(queue);
        return true;
    }

    /// <summary>A call on <paramref name="queue"/> failed as unavailable while others answered: it is suspended, or longer.</summary>
    public void Failed(string queue, Exception error)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var generation = Interlocked.Increment(ref _generation);
            if (_suspended.TryGetValue(queue, out var suspension))
            {
                var backoff = suspension.Backoff * 2 < MaxBackoff ? suspension.Backoff * 2 : MaxBackoff;
                _suspended[queue] = new Suspension(suspension.Since, backoff, now + backoff, Probing: false, generation);
                return;
            }

            _suspended[queue] = new Suspension(now, FirstBackoff, now + FirstBackoff, Probing: false, generation);
            Volatile.Write(ref _count, _suspended.Count);
        }

        LogSuspended(logger, error, queue, (int)FirstBackoff.TotalMilliseconds, (int)MaxBackoff.TotalMilliseconds);
    }

    /// <summary>
    /// A call on <paramref name="queue"/>, sent at <paramref name="generation"/> (<see cref="Generation"/>), succeeded: a
    /// suspension of it ends, unless it was begun or prolonged after that call was sent.
    /// </summary>
    public void Succeeded(string queue, long generation = long.MaxValue)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }

        Suspension suspension;
        lock (_lock)
        {
            if (!_suspended.TryGetValue(queue, out suspension) || suspension.Generation > generation)
            {
                return;
            }

            _suspended.Remove(queue);

            Volatile.Write(ref _count, _suspended.Count);
        }

        LogResumed(logger, queue, (long)(time.GetUtcNow() - suspension.Since).TotalMilliseconds);
    }

    private async Task ProbeAsync(string queue)
    {
        var generation = Generation;
        try
        {
            await probe(queue).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            Failed(queue, e);
            return;
        }
#pragma warning disable CA1031 // Any other answer (an error of the node's own) is an answer: the node is there, the next dequeue tells the rest.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        Succeeded(queue, generation);
    }

    [LoggerMessage(911, LogLevel.Warning, "Queue {queue} is unavailable in the Redis store while other queues answer (its node is away): dequeues leave it out for {backoff_ms} ms, then probe its node, waiting up to {max_backoff_ms} ms between probes while it keeps failing")]
    private static partial void LogSuspended(ILogger logger, Exception error, string queue, int backoff_ms, int max_backoff_ms);

    [LoggerMessage(912, LogLevel.Information, "Queue {queue} answers again in the Redis store: dequeues take from it again after {outage_ms} ms")]
    private static partial void LogResumed(ILogger logger, string queue, long outage_ms);

    private readonly record struct Suspension(DateTimeOffset Since, TimeSpan Backoff, DateTimeOffset Until, bool Probing, long Generation);
}
