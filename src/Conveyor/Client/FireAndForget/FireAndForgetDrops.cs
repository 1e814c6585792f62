using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Conveyor.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.Client.FireAndForget;

/// <summary>
/// Counts and logs every fire-and-forget job that was not stored. The metric is counted at once; the log is one
/// warning per job type, queue and reason with how many, not a line per call: a full buffer at 100,000 calls a second
/// must not turn into as many log lines. Drops seen by callers are tallied here and logged by the pump after each batch
/// (the buffer is full only while the pump is busy, so that is soon) and at shutdown; the pump's own drops are logged
/// at once with the store's exception.
/// </summary>
internal sealed class FireAndForgetDrops(ConveyorMetrics metrics, IOptions<FireAndForgetOptions> options, ILogger<FireAndForgetDrops> logger)
{
    private readonly ConcurrentDictionary<(string JobType, string Queue, string Reason), StrongBox<long>> _tally = new();
    private readonly FireAndForgetOptions _options = options.Value;
    private volatile bool _pumpStopped;

    /// <summary>A call that a caller's thread dropped; logged at the pump's next turn (at once once the pump has stopped).</summary>
    public void Record(in FireAndForgetCall call, string reason)
    {
        metrics.FireAndForgetDropped(call.JobType, call.Queue, reason, 1);
        if (_pumpStopped)
        {
            Log.FireAndForgetDropped(logger, 1, call.JobType, call.Queue, reason, FireAndForgetDropReason.Describe(reason, _options));
            return;
        }

        Interlocked.Increment(ref _tally.GetOrAdd((call.JobType, call.Queue, reason), static _ => new StrongBox<long>()).Value);
    }

    /// <summary>Jobs the pump could not store: counted and logged now, one line per job type and queue.</summary>
    public void Dropped(IReadOnlyList<FireAndForgetCall> calls, string reason, Exception? exception)
    {
        foreach (var group in calls.GroupBy(static c => (c.JobType, c.Queue)))
        {
            var count = group.Count();
            Log.FireAndForgetNotStored(logger, exception, count, group.Key.JobType, group.Key.Queue, reason, FireAndForgetDropReason.Describe(reason, _options));
            metrics.FireAndForgetDropped(group.Key.JobType, group.Key.Queue, reason, count);
        }
    }

    /// <summary>Logs the callers' drops tallied since the last call, one line per job type, queue and reason.</summary>
    public void LogTallied()
    {
        if (_tally.IsEmpty)
        {
            return;
        }

        foreach (var (key, box) in _tally)
        {
            var count = Interlocked.Exchange(ref box.Value, 0);
            if (count > 0)
            {
                Log.FireAndForgetDropped(logger, count, key.JobType, key.Queue, key.Reason, FireAndForgetDropReason.Describe(key.Reason, _options));
            }
        }
    }

    /// <summary>From now on, callers' drops are logged at once: no pump turn will come to log them.</summary>
    public void PumpStopped()
    {
        _pumpStopped = true;
        LogTallied();
    }
}
