using Microsoft.Extensions.Logging;

namespace Conveyor.Redis;

/// <summary>
/// The queues a dequeue leaves out for a while because their node failed as unavailable while other queues' nodes
/// answered: on a Redis Cluster whose primary hangs, its queues' calls each wait out the client's timeout, and a
/// dequeue that asked them every time would hold up the queues of the healthy primaries as long. A suspended queue is
/// left out for a back-off of 1 s, doubling while it keeps failing up to 8 s; once that has passed, one dequeue asks it
/// again (the others still leave it out until that one has its answer), and its first success ends the suspension. The
/// suspension is logged when it begins and when it ends, so once per outage.
/// </summary>
internal sealed partial class QueueSuspensions(TimeProvider time, ILogger logger)
{
    /// <summary>The first back-off of a queue that failed.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off: a queue whose node is back waits at most this long to be asked again.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(8);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Suspension> _suspended = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a dequeue may ask <paramref name="queue"/> now: it is not suspended, or its back-off has passed and this
    /// dequeue is the one that tries it again.
    /// </summary>
    public bool TryAsk(string queue)
    {
        lock (_lock)
        {
            if (!_suspended.TryGetValue(queue, out var suspension))
            {
                return true;
            }

            var now = time.GetUtcNow();
            if (now < suspension.Until)
            {
                return false;
            }

            // The one try: the others leave the queue out until it has failed (a longer back-off) or succeeded (none). A
            // try that ends in neither (a caller's error) lets the next dequeue try once this back-off has passed again.
            _suspended[queue] = suspension with { Until = now + suspension.Backoff };
            return true;
        }
    }

    /// <summary>A call on <paramref name="queue"/> failed as unavailable while others answered: it is suspended, or longer.</summary>
    public void Failed(string queue, Exception error)
    {
        TimeSpan backoff;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_suspended.TryGetValue(queue, out var suspension))
            {
                backoff = suspension.Backoff * 2 < MaxBackoff ? suspension.Backoff * 2 : MaxBackoff;
                _suspended[queue] = suspension with { Backoff = backoff, Until = now + backoff };
                return;
            }

            backoff = FirstBackoff;
            _suspended[queue] = new Suspension(now, backoff, now + backoff);
        }

        LogSuspended(logger, error, queue, (int)backoff.TotalMilliseconds, (int)MaxBackoff.TotalMilliseconds);
    }

    /// <summary>A call on <paramref name="queue"/> succeeded: a suspension of it ends.</summary>
    public void Succeeded(string queue)
    {
        Suspension suspension;
        lock (_lock)
        {
            if (_suspended.Count == 0 || !_suspended.Remove(queue, out suspension))
            {
                return;
            }
        }

        LogResumed(logger, queue, (long)(time.GetUtcNow() - suspension.Since).TotalMilliseconds);
    }

    [LoggerMessage(911, LogLevel.Warning, "Queue {queue} is unavailable in the Redis store while other queues answer (its node is away): dequeues leave it out for {backoff_ms} ms, then try it again, waiting up to {max_backoff_ms} ms between tries while it keeps failing")]
    private static partial void LogSuspended(ILogger logger, Exception error, string queue, int backoff_ms, int max_backoff_ms);

    [LoggerMessage(912, LogLevel.Information, "Queue {queue} answers again in the Redis store: dequeues take from it again after {outage_ms} ms")]
    private static partial void LogResumed(ILogger logger, string queue, long outage_ms);

    private readonly record struct Suspension(DateTimeOffset Since, TimeSpan Backoff, DateTimeOffset Until);
}
