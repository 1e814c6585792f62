using System.Diagnostics.Metrics;
using Conveyor.Diagnostics;

namespace Conveyor.AspNetCore.StatsApi;

/// <summary>
/// The last hour of this process's throughput, a second at a time: attempts finished and failed
/// (<c>job_processed_total</c>) and jobs enqueued (<c>job_enqueued_total</c>), heard from this application's "Conveyor"
/// meter with a <see cref="MeterListener"/>. A ring of 3,600 one-second slots: fixed memory, nothing external.
/// </summary>
/// <remarks>
/// Per process on purpose: the meter counts what this process's workers and API did, and a count that spans every
/// server would need a write to the store per job (or per second per server) on the hot path. A deployment of one
/// server (the default) sees everything; with several, each server's dashboard shows its own share.
/// </remarks>
internal sealed class ThroughputRecorder : IDisposable
{
    public const int RetainedSeconds = 3600;

    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;
    private readonly Slot[] _slots = new Slot[RetainedSeconds];
    private readonly Lock _gate = new();

    public ThroughputRecorder(IMeterFactory meterFactory, ConveyorMetrics metrics, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _time = timeProvider;

        // Only this application's meter (several applications in one process each have their own IMeterFactory).
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ConveyorMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory)
                && instrument.Name is "job_processed_total" or "job_enqueued_total")
            {
                listener.EnableMeasurementEvents(instrument, instrument.Name == "job_enqueued_total");
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) =>
        {
            if (value == 0)
            {
                return;
            }

            if ((bool)state!)
            {
                Record(enqueued: value);
                return;
            }

            foreach (var tag in tags)
            {
                if (tag.Key == "status")
                {
                    switch (tag.Value as string)
                    {
                        case "failed":
                            Record(processed: value, failed: value);
                            break;
                        case "released" or "snoozed":
                            // Handed back at shutdown, or parked to wait: it runs again, so it was not processed.
                            break;
                        default:
                            Record(processed: value);
                            break;
                    }

                    return;
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Buckets of <paramref name="bucketSeconds"/> covering the last <paramref name="minutes"/>, oldest first; the last one is the current, partial bucket.</summary>
    public IReadOnlyList<ThroughputBucket> Read(int minutes, int bucketSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minutes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minutes, RetainedSeconds / 60);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var end = ((now / bucketSeconds) + 1) * bucketSeconds;
        var count = minutes * 60 / bucketSeconds;
        var buckets = new ThroughputBucket[count];
        lock (_gate)
        {
            for (var b = 0; b < count; b++)
            {
                var start = end - ((count - b) * (long)bucketSeconds);
                long processed = 0, failed = 0, enqueued = 0;
                for (var second = start; second < start + bucketSeconds; second++)
                {
                    ref var slot = ref _slots[SlotOf(second)];
                    if (slot.Second == second && second > now - RetainedSeconds)
                    {
                        processed += slot.Processed;
                        failed += slot.Failed;
                        enqueued += slot.Enqueued;
                    }
                }

                buckets[b] = new ThroughputBucket(DateTimeOffset.FromUnixTimeSeconds(start), processed, failed, enqueued);
            }
        }

        return buckets;
    }

    public void Dispose() => _listener.Dispose();

    private void Record(long processed = 0, long failed = 0, long enqueued = 0)
    {
        var second = _time.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            ref var slot = ref _slots[SlotOf(second)];
            if (slot.Second != second)
            {
                slot = new Slot { Second = second };
            }

            slot.Processed += processed;
            slot.Failed += failed;
            slot.Enqueued += enqueued;
        }
    }

    private static int SlotOf(long second) => (int)(((second % RetainedSeconds) + RetainedSeconds) % RetainedSeconds);

    private struct Slot
    {
        public long Second;
        public long Processed;
        public long Failed;
        public long Enqueued;
    }
}

/// <summary>The counts of one bucket that starts at <paramref name="At"/>.</summary>
internal readonly record struct ThroughputBucket(DateTimeOffset At, long Processed, long Failed, long Enqueued);
