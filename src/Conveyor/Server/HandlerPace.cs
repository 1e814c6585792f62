namespace Conveyor.Server;

/// <summary>
/// A moving average of how long handlers take, which tells the fetcher whether leasing jobs ahead is worth it: when a
/// job takes about as long as a dequeue round trip, workers waiting for every dequeue halve the throughput; when jobs
/// take seconds, the round trip is noise and leased-ahead jobs only wait while other servers could run them.
/// </summary>
internal sealed class HandlerPace
{
    /// <summary>Handlers faster than this on average get jobs leased ahead of them.</summary>
    public static readonly TimeSpan ShortHandler = TimeSpan.FromMilliseconds(50);

    /// <summary>Handlers that must finish before the average counts: one quick failure says little about a job type.</summary>
    public const int MinimumSamples = 8;

    // Unknown until handlers finish: assume long, so a server of long jobs never leases ahead, not even at start.
    private long _averageTicks = long.MaxValue;
    private int _samples;

    internal bool IsShort => Volatile.Read(ref _samples) >= MinimumSamples && Volatile.Read(ref _averageTicks) < ShortHandler.Ticks;

    /// <summary>
    /// Adds one handler's time with weight 1/8. Concurrent updates may overwrite each other; for an estimate that only
    /// decides whether to lease ahead, a lost sample is cheaper than a lock on every job.
    /// </summary>
    internal void Record(TimeSpan elapsed)
    {
        var previous = Volatile.Read(ref _averageTicks);
        var next = previous == long.MaxValue ? elapsed.Ticks : previous + ((elapsed.Ticks - previous) / 8);
        Volatile.Write(ref _averageTicks, next);
        if (Volatile.Read(ref _samples) < MinimumSamples)
        {
            Interlocked.Increment(ref _samples);
        }
    }
}
