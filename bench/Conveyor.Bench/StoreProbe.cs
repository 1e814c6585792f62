using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Conveyor.Storage;

namespace Conveyor.Bench;

/// <summary>
/// Counts the store's round trips on the hot path (Dequeue, AcknowledgeMany, EnqueueMany) and their time, so that a
/// drain rate can be explained as jobs per call × calls per second, and when the janitor's deletes ran
/// (<see cref="ProbeCounters.Deletions"/>), so that latency can be compared with and without them. Everything else is
/// forwarded untouched.
/// </summary>
internal class StoreProbe : DispatchProxy
{
    private IJobStore _inner = null!;

    public static ProbeCounters Counters { get; } = new();

    public static IJobStore Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, StoreProbe>();
        ((StoreProbe)(object)proxy)._inner = inner;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        // Timed from before the call: a store may do all its work before it returns the task.
        var started = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            // A store that throws before returning its task (e.g. cancelled) must look the same through the probe.
            ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }

        Counters.Calls.AddOrUpdate(targetMethod!.Name, 1, static (_, n) => n + 1);
        return targetMethod.Name switch
        {
            nameof(IJobStore.EnqueueAsync) when args![0] is NewJob { Id: { } id } && id.StartsWith("sch:", StringComparison.Ordinal)
                => Stamp((ValueTask<EnqueueResult>)result!, id),
            nameof(IJobStore.DequeueAsync) => Time((ValueTask<IReadOnlyList<LeasedJob>>)result!, Counters.Dequeue, r => r.Count, started),
            nameof(IJobStore.AcknowledgeManyAsync) => Stored(Time((ValueTask<int>)result!, Counters.Acknowledge, _ => ((IReadOnlyList<JobAcknowledgement>)args![0]!).Count, started), (IReadOnlyList<JobAcknowledgement>)args![0]!, started),
            nameof(IJobStore.AcknowledgeAndTakeReleasedAsync) => Stored(Time((ValueTask<AcknowledgeResult>)result!, Counters.Acknowledge, _ => ((IReadOnlyList<JobAcknowledgement>)args![0]!).Count, started), (IReadOnlyList<JobAcknowledgement>)args![0]!, started),
            nameof(IJobStore.EnqueueManyAsync) => Time((ValueTask<IReadOnlyList<EnqueueResult>>)result!, Counters.Enqueue, r => r.Count, started),
            _ when result is ValueTask<int> deletion && (targetMethod.Name.StartsWith("Purge", StringComparison.Ordinal) || targetMethod.Name.StartsWith("Trim", StringComparison.Ordinal))
                => Span(deletion, started),
            _ => result,
        };
    }

    private static ValueTask<EnqueueResult> Stamp(ValueTask<EnqueueResult> call, string id)
    {
        return Await(call, id);

        static async ValueTask<EnqueueResult> Await(ValueTask<EnqueueResult> call, string id)
        {
            var result = await call;
            Counters.EnqueuedAt[id] = TimeProvider.System.GetUtcNow();
            return result;
        }
    }

    /// <summary>Records when the acknowledgements' call began, when they were stored (the call returned) and how many it carried, by job id, while <see cref="ProbeCounters.AcknowledgedAt"/> is on.</summary>
    private static ValueTask<T> Stored<T>(ValueTask<T> call, IReadOnlyList<JobAcknowledgement> acknowledgements, long started)
    {
        return Counters.AcknowledgedAt is null ? call : Await(call, acknowledgements, started);

        static async ValueTask<T> Await(ValueTask<T> call, IReadOnlyList<JobAcknowledgement> acknowledgements, long started)
        {
            var value = await call;
            var now = Stopwatch.GetTimestamp();
            foreach (var ack in acknowledgements)
            {
                Counters.AcknowledgedAt?[ack.JobId] = (started, now, acknowledgements.Count);
            }

            return value;
        }
    }

    private static ValueTask<int> Span(ValueTask<int> call, long started)
    {
        return Await(call, started);

        static async ValueTask<int> Await(ValueTask<int> call, long started)
        {
            try
            {
                return await call;
            }
            finally
            {
                Counters.Deletions.Enqueue((started, Stopwatch.GetTimestamp()));
            }
        }
    }

    private static ValueTask<T> Time<T>(ValueTask<T> call, ProbeCounter counter, Func<T, int> items, long started)
    {
        return Await(call, counter, items, started);

        static async ValueTask<T> Await(ValueTask<T> call, ProbeCounter counter, Func<T, int> items, long started)
        {
            var value = await call;
            counter.Add(items(value), Stopwatch.GetElapsedTime(started));
            return value;
        }
    }
}

internal sealed class ProbeCounters
{
    public ProbeCounter Dequeue { get; } = new("dequeue");

    public ProbeCounter Acknowledge { get; } = new("ack");

    public ProbeCounter Enqueue { get; } = new("enqueue");

    /// <summary>Start and end (Stopwatch timestamps) of every purge or trim call: when the janitor was deleting.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(long Start, long End)> Deletions { get; } = new();

    /// <summary>Every store call, by operation (each is one round trip or, for a few, a short transaction).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, long> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>When each job's acknowledgement was stored (Stopwatch timestamp), by job id; null (not recorded) unless a scenario sets it.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, (long Called, long Stored, int Count)>? AcknowledgedAt { get; set; }

    /// <summary>When the enqueue of each schedule tick's job returned, by job id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> EnqueuedAt { get; } = new(StringComparer.Ordinal);

    public void ResetCalls() => Calls.Clear();

    public void Reset()
    {
        Dequeue.Reset();
        Acknowledge.Reset();
        Enqueue.Reset();
    }

    public override string ToString() => $"{Dequeue}; {Acknowledge}";
}

internal sealed class ProbeCounter(string name)
{
    private long _calls;
    private long _items;
    private long _ticks;

    public void Add(int items, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _items, items);
        Interlocked.Add(ref _ticks, elapsed.Ticks);
    }

    public void Reset()
    {
        _calls = 0;
        _items = 0;
        _ticks = 0;
    }

    public override string ToString()
    {
        var calls = Math.Max(1, Interlocked.Read(ref _calls));
        return $"{name} {Interlocked.Read(ref _calls)} calls, {BenchHost.F(Interlocked.Read(ref _items) / (double)calls, "F1")} jobs/call, " +
               $"{BenchHost.F(TimeSpan.FromTicks(Interlocked.Read(ref _ticks) / calls).TotalMilliseconds, "F2")} ms/call";
    }
}
