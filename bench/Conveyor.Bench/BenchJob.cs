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
    private double[] _latencies = [];
    private int _latencyCount;

    public long Completed => Interlocked.Read(ref _completed);

    public void ExpectLatencies(int n)
    {
        _latencies = new double[n];
        _latencyCount = 0;
    }

    public void Record(long enqueuedAt)
    {
        var started = Stopwatch.GetTimestamp();
        var slot = Interlocked.Increment(ref _latencyCount) - 1;
        if (slot < _latencies.Length)
        {
            _latencies[slot] = Stopwatch.GetElapsedTime(enqueuedAt, started).TotalMilliseconds;
        }

        Interlocked.Increment(ref _completed);
    }

    public double[] Latencies => _latencies.AsSpan(0, Math.Min(_latencyCount, _latencies.Length)).ToArray();
}

internal sealed class BenchHandler(BenchRecorder recorder) : IJobHandler<BenchJob>
{
    public Task HandleAsync(BenchJob payload, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Record(payload.T);
        return Task.CompletedTask;
    }
}
