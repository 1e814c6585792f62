using System.Diagnostics;
using Conveyor;

namespace Conveyor.Bench;

/// <summary>The no-op job: its payload carries the Stopwatch timestamp of its enqueue (same process).</summary>
internal sealed record BenchJob(long T) : IJobPayload
{
    public static string JobType => "bench:noop";
}

/// <summary>Counts completions and records enqueue-to-start latency; does nothing else.</summary>
internal sealed class BenchRecorder
{
    private long _completed;
    private long _started;
    private double[] _latencies = [];
    private int _latencyCount;

    public long Completed => Interlocked.Read(ref _completed);

    public long Started => Interlocked.Read(ref _started);

    public void ExpectLatencies(int n)
    {
        _latencies = new double[n];
        _latencyCount = 0;
    }

    public void RecordStart(long enqueuedAt)
    {
        var started = Stopwatch.GetTimestamp();
        var slot = Interlocked.Increment(ref _latencyCount) - 1;
        if (slot < _latencies.Length)
        {
            _latencies[slot] = Stopwatch.GetElapsedTime(enqueuedAt, started).TotalMilliseconds;
        }

        Interlocked.Increment(ref _started);
    }

    public void RecordEnd() => Interlocked.Increment(ref _completed);

    public double[] Latencies => _latencies.AsSpan(0, Math.Min(_latencyCount, _latencies.Length)).ToArray();
}

/// <summary>No-op, or (with --io-ms) one awaited delay standing in for a call to another service.</summary>
internal sealed class BenchHandler(BenchRecorder recorder, BenchSettings settings) : IJobHandler<BenchJob>
{
    public Task HandleAsync(BenchJob payload, JobContext context, CancellationToken cancellationToken)
    {
        recorder.RecordStart(payload.T);
        if (settings.IoMs <= 0)
        {
            recorder.RecordEnd();
            return Task.CompletedTask;
        }

        return WaitAsync(cancellationToken);
    }

    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(settings.IoMs, cancellationToken);
        recorder.RecordEnd();
    }
}
