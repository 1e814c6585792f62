using System.Threading.Channels;

namespace Conveyor.Server;

/// <summary>
/// Hands back (released, attempt not counted) a job that has waited in the buffer longer than a short handler
/// (<see cref="HandlerPace.ShortHandler"/>) for a worker, so that an idle server can take it. Jobs are leased ahead only
/// while handlers are short (<see cref="HandlerPace"/>), but that is known from the handlers so far: the first wave of long
/// jobs after short ones is leased ahead of itself, and without this it waited a whole handler length (minutes, for long
/// jobs) while other servers sat idle. Writes to the buffer go through this writer, which marks when each job arrived.
/// Only jobs leased ahead of busy workers are handed back: as many of the oldest as there are idle workers are about to
/// start (on a loaded machine a woken worker may wait longer than a short handler for a thread). A job holding a rate
/// permit is not handed back either: its permit, a turn of the limit, would be wasted.
/// </summary>
internal sealed class LeasedAheadHandBack(
    ChannelWriter<RunningJob> buffer,
    HeldJobs held,
    HandlerPace pace,
    Action<RunningJob> handBack,
    TimeProvider timeProvider) : ChannelWriter<RunningJob>
{
    /// <summary>How long a job may wait in the buffer for a worker before it is handed back.</summary>
    public static TimeSpan MaxWait => HandlerPace.ShortHandler;

    // Released once for each write that finds the watch disarmed: a wait for jobs to watch that never spins while none is
    // in the buffer, at the cost of one interlocked read per write while one is.
    private readonly SemaphoreSlim _written = new(0);
    private int _armed;

    public override bool TryWrite(RunningJob item)
    {
        item.BufferedAt = timeProvider.GetTimestamp();
        if (!buffer.TryWrite(item))
        {
            return false;
        }

        if (Volatile.Read(ref _armed) == 0 && Interlocked.Exchange(ref _armed, 1) == 0)
        {
            _written.Release();
        }

        return true;
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => buffer.WaitToWriteAsync(cancellationToken);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await _written.WaitAsync(stoppingToken).ConfigureAwait(false);

                // Disarmed before the look, so that a job written from now on is either seen by it or wakes the next one.
                Volatile.Write(ref _armed, 0);
                while (HandBackOverdue() is { } next)
                {
                    await Task.Delay(next, timeProvider, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The shutdown hands back what is still in the buffer.
        }
    }

    /// <summary>Hands back the jobs that waited too long; returns how long until the next waiting one will have, or null when none waits.</summary>
    internal TimeSpan? HandBackOverdue()
    {
        var waiting = new List<RunningJob>();
        foreach (var run in held.All)
        {
            if (run.WaitsInBuffer)
            {
                waiting.Add(run);
            }
        }

        // The buffer is read in the order it was written: the oldest jobs go to the idle workers.
        waiting.Sort(static (a, b) => a.BufferedAt.CompareTo(b.BufferedAt));
        var aboutToStart = pace.IdleWorkers;
        TimeSpan? next = null;
        var now = timeProvider.GetTimestamp();
        foreach (var run in waiting)
        {
            if (aboutToStart > 0)
            {
                // Not leased ahead: an idle worker reads it next. Looked at again, should the worker take another.
                aboutToStart--;
                next = Earlier(next, MaxWait);
                continue;
            }

            if (run.HoldsRatePermit)
            {
                continue;
            }

            var left = MaxWait - timeProvider.GetElapsedTime(run.BufferedAt, now);
            if (left > TimeSpan.Zero)
            {
                next = Earlier(next, left);
            }
            else if (run.TryLeaveBuffer() && run.Reason != StopReason.LeaseLost)
            {
                // The worker that reads it from the buffer finds it claimed and frees its slot: until then the slot stays
                // taken, so this server does not lease the job again while its workers are busy.
                handBack(run);
            }
        }

        return next;
    }

    private static TimeSpan Earlier(TimeSpan? next, TimeSpan wait) => next is { } earlier && earlier < wait ? earlier : wait;
}
