using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store and controls its <see cref="IJobQueueStore.EnqueueManyAsync"/>: counts the round trips, holds them at a
/// gate that only <see cref="Release"/> opens (whatever the caller's token says: a store that never answers), or fails
/// them. Every other call goes straight through.
/// </summary>
public class GatedStore : DispatchProxy
{
    private IJobStore _inner = null!;
    private volatile TaskCompletionSource? _gate;
    private int _enqueueManyCalls;
    private int _enqueuedJobs;

    /// <summary>When set, every EnqueueManyAsync throws what this returns (after the gate).</summary>
    public Func<Exception>? Failure { get; set; }

    /// <summary>
    /// When set, an EnqueueManyAsync with a job this refuses throws for the whole round trip and stores none of it (as
    /// a Redis Cluster refuses a workflow job with its own id).
    /// </summary>
    public Func<NewJob, bool>? Refuses { get; set; }

    /// <summary>When set, how long the store takes for a round trip (after the gate), honouring the caller's token.</summary>
    public Func<IReadOnlyList<NewJob>, TimeSpan?>? Slowness { get; set; }

    /// <summary>Round trips started, including those held at the gate and those that failed.</summary>
    public int EnqueueManyCalls => Volatile.Read(ref _enqueueManyCalls);

    /// <summary>Jobs in the round trips that reached the inner store.</summary>
    public int EnqueuedJobs => Volatile.Read(ref _enqueuedJobs);

    public static (IJobStore Store, GatedStore Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, GatedStore>();
        var control = (GatedStore)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    /// <summary>From now on, round trips wait until <see cref="Release"/>.</summary>
    public void Block() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _gate, null)?.TrySetResult();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobQueueStore.EnqueueManyAsync))
        {
            return EnqueueManyAsync((IReadOnlyList<NewJob>)args![0]!, (CancellationToken)args[1]!);
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _enqueueManyCalls);
        var gate = _gate;
        var held = gate is not null;
        if (gate is not null)
        {
            await gate.Task;
        }

        if (Slowness?.Invoke(jobs) is { } slowness)
        {
            // A slow store that honours the caller's token: a round trip cancelled meanwhile stores nothing.
            await Task.Delay(slowness, cancellationToken);
        }

        if (Failure is { } failure)
        {
            throw failure();
        }

        if (Refuses is { } refuses && jobs.FirstOrDefault(refuses) is { } refused)
        {
            throw new ArgumentException($"Job '{refused.Id}' is refused.", nameof(jobs));
        }

        // A round trip held at the gate is finished once released, whatever its caller's token says by then, as a store
        // frozen past the caller's timeout finishes the call when it wakes.
        var results = await _inner.EnqueueManyAsync(jobs, held ? CancellationToken.None : cancellationToken);
        Interlocked.Add(ref _enqueuedJobs, jobs.Count);
        return results;
    }
}
