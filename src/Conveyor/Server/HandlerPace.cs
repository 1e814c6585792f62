namespace Conveyor.Server;

/// <summary>
/// How long handlers take, which tells the fetcher whether leasing jobs ahead is worth it: when a job takes about as long
/// as a dequeue round trip, workers waiting for every dequeue halve the throughput; when jobs take seconds, the round trip
/// is noise and leased-ahead jobs only wait while other servers could run them. Two measures: a moving average of the
/// handlers that finished, and how long each running handler has been running, because the average only learns that jobs
/// got long once the first long ones finish, and a server that ran short jobs before would lease a whole wave of long ones
/// ahead of themselves.
/// </summary>
internal sealed class HandlerPace
{
    /// <summary>Handlers faster than this on average get jobs leased ahead of them.</summary>
    public static readonly TimeSpan ShortHandler = TimeSpan.FromMilliseconds(50);

    /// <summary>Handlers that must finish before the average counts: one quick failure says little about a job type.</summary>
    public const int MinimumSamples = 8;

    private const long Idle = long.MinValue;

    private readonly TimeProvider _timeProvider;

    // Per worker: the timestamp its current job began at, or Idle. Each worker writes only its own entry.
    private readonly long[] _runningSince;

    // Unknown until handlers finish: assume long, so a server of long jobs never leases ahead, not even at start.
    private long _averageTicks = long.MaxValue;
    private int _samples;

    public HandlerPace(int workers, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _runningSince = new long[workers];
        Array.Fill(_runningSince, Idle);
    }

    /// <summary>Whether the handlers that finished were short on average (over at least <see cref="MinimumSamples"/>).</summary>
    internal bool IsShort => Volatile.Read(ref _samples) >= MinimumSamples && Volatile.Read(ref _averageTicks) < ShortHandler.Ticks;

    /// <summary>
    /// How many of <paramref name="prefetch"/> slots may hold jobs leased ahead now: none unless the finished handlers were
    /// short; of those, a share for each worker whose job has run no longer than <see cref="ShortHandler"/> so far (or that
    /// is idle). Jobs leased ahead wait for a worker to finish: one whose handler already ran longer than a short one
    /// gives no such promise, and when every worker is held by one, nothing is leased ahead of them.
    /// </summary>
    internal int LeaseAheadSlots(int prefetch)
    {
        if (prefetch == 0 || !IsShort)
        {
            return 0;
        }

        var now = _timeProvider.GetTimestamp();
        var longRunning = 0;
        for (var i = 0; i < _runningSince.Length; i++)
        {
            var since = Volatile.Read(ref _runningSince[i]);
            if (since != Idle && _timeProvider.GetElapsedTime(since, now) > ShortHandler)
            {
                longRunning++;
            }
        }

        // Rounded against leasing ahead: one long handler of two keeps half of the slots, rounded up.
        return prefetch - (int)(((long)prefetch * longRunning + _runningSince.Length - 1) / _runningSince.Length);
    }

    /// <summary>
    /// The workers running no handler: each reads the buffer next, so as many jobs waiting there, the oldest, are about to
    /// start (a worker woken for a job may wait for a thread on a busy machine), not leased ahead of busy workers.
    /// </summary>
    internal int IdleWorkers
    {
        get
        {
            var idle = 0;
            for (var i = 0; i < _runningSince.Length; i++)
            {
                if (Volatile.Read(ref _runningSince[i]) == Idle)
                {
                    idle++;
                }
            }

            return idle;
        }
    }

    /// <summary>Worker <paramref name="worker"/> took a job at <paramref name="timestamp"/> (a <see cref="TimeProvider"/> timestamp).</summary>
    internal void Began(int worker, long timestamp) => Volatile.Write(ref _runningSince[worker], timestamp);

    /// <summary>Worker <paramref name="worker"/> is done with its job.</summary>
    internal void Ended(int worker) => Volatile.Write(ref _runningSince[worker], Idle);

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
