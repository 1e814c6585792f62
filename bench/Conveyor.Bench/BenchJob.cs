using System.Diagnostics;

namespace Conveyor.Bench;

/// <summary>The no-op job: its payload carries the Stopwatch timestamp of its enqueue (same process).</summary>
internal sealed record BenchJob(long T) : IJobPayload
{
    public static string JobType => "bench:noop";
}

/// <summary>
/// The no-op job as an idempotent handler's (--idempotent): a key per job, so every job begins and completes its own
/// record; what the drain loses against <see cref="BenchJob"/> is the idempotency step's cost.
/// </summary>
internal sealed record IdempotentBenchJob(long T, long Key) : IJobPayload, IIdempotentJob
{
    public static string JobType => "bench:idempotent";

    public string IdempotencyKey => Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Counts completions and records enqueue-to-start latency; does nothing else.</summary>
internal sealed class BenchRecorder
{
    private long _completed;
    private long _started;
    private double[] _latencies = [];
    private (long EnqueuedAt, long StartedAt)[] _spans = [];
    private int _latencyCount;

    public long Completed => Interlocked.Read(ref _completed);

    public long Started => Interlocked.Read(ref _started);

    public void ExpectLatencies(int n)
    {
        _latencies = new double[n];
        _spans = new (long, long)[n];
        _latencyCount = 0;
    }

    public void RecordStart(long enqueuedAt)
    {
        var started = Stopwatch.GetTimestamp();
        var slot = Interlocked.Increment(ref _latencyCount) - 1;
        if (slot < _latencies.Length)
        {
            _latencies[slot] = Stopwatch.GetElapsedTime(enqueuedAt, started).TotalMilliseconds;
            _spans[slot] = (enqueuedAt, started);
        }

        Interlocked.Increment(ref _started);
    }

    public void RecordEnd() => Interlocked.Increment(ref _completed);

    public double[] Latencies => _latencies.AsSpan(0, Math.Min(_latencyCount, _latencies.Length)).ToArray();

    /// <summary>Stopwatch timestamps of each recorded job's enqueue and start, in the order of <see cref="Latencies"/>.</summary>
    public (long EnqueuedAt, long StartedAt)[] Spans => _spans.AsSpan(0, Math.Min(_latencyCount, _spans.Length)).ToArray();
}

/// <summary>The same handler for <see cref="IdempotentBenchJob"/>.</summary>
internal sealed class IdempotentBenchHandler(BenchRecorder recorder, BenchSettings settings) : IJobHandler<IdempotentBenchJob>
{
    private readonly BenchHandler _inner = new(recorder, settings);

    public Task HandleAsync(IdempotentBenchJob payload, JobContext context, CancellationToken cancellationToken) =>
        _inner.HandleAsync(new BenchJob(payload.T), context, cancellationToken);
}

/// <summary>
/// No-op, or (with --io-ms) one awaited delay standing in for a call to another service: --io-ms to --io-ms-max ms
/// when --io-ms-max is larger. With --fail-percent P, that share of jobs fails its first attempt (and is retried).
/// Enqueue-to-start latency is recorded for first attempts only.
/// </summary>
internal sealed class BenchHandler(BenchRecorder recorder, BenchSettings settings) : IJobHandler<BenchJob>
{
    public Task HandleAsync(BenchJob payload, JobContext context, CancellationToken cancellationToken)
    {
        if (context.Attempt == 1)
        {
            recorder.RecordStart(payload.T);
        }

        if (settings.IoMs <= 0)
        {
            return Finish(context);
        }

        return WaitAsync(context, cancellationToken);
    }

    private async Task WaitAsync(JobContext context, CancellationToken cancellationToken)
    {
        var ms = settings.IoMsMax > settings.IoMs ? Random.Shared.Next(settings.IoMs, settings.IoMsMax + 1) : settings.IoMs;
        await Task.Delay(ms, cancellationToken);
        await Finish(context);
    }

    private Task Finish(JobContext context)
    {
        if (context.Attempt == 1 && settings.FailPercent > 0 && Random.Shared.Next(100) < settings.FailPercent)
        {
            return Task.FromException(new InvalidOperationException("the bench's planned first-attempt failure"));
        }

        recorder.RecordEnd();
        return Task.CompletedTask;
    }
}
