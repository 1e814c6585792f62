using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>Wraps a store; while <see cref="Available"/> is false every call throws <see cref="Failure"/> (by default a <see cref="JobStoreUnavailableException"/>).</summary>
public class UnreliableStore : DispatchProxy
{
    private IJobStore _inner = null!;

    public bool Available { get; set; } = true;

    public Func<Exception> Failure { get; set; } = static () => new JobStoreUnavailableException("the test store is down");

    public int FailedCalls;

    public int FailedDequeues;

    /// <summary>Failed stores of a durable step's result.</summary>
    public int FailedStepSaves;

    /// <summary>Failed reads of the server registry, such as the metrics' background reads of it.</summary>
    public int FailedServerListings;

    /// <summary>How long <see cref="IJobStore.InitializeAsync"/> takes before it opens the store: a long migration, or one waited for behind its lock.</summary>
    public TimeSpan InitializationDelay { get; set; }

    /// <summary>Calls of <see cref="IJobStore.InitializeAsync"/> that reached the store (while it was available).</summary>
    public int Initializations;

    public static (IJobStore Store, UnreliableStore Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, UnreliableStore>();
        var control = (UnreliableStore)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    private async ValueTask InitializeLaterAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(InitializationDelay, cancellationToken);
        await _inner.InitializeAsync(cancellationToken);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (!Available && targetMethod!.Name != "get_Name")
        {
            Interlocked.Increment(ref FailedCalls);
            if (targetMethod!.Name == nameof(IJobStore.DequeueAsync))
            {
                Interlocked.Increment(ref FailedDequeues);
            }

            if (targetMethod!.Name == nameof(IJobStore.SaveStepAsync))
            {
                Interlocked.Increment(ref FailedStepSaves);
            }

            if (targetMethod!.Name == nameof(IJobStore.ListServersAsync))
            {
                Interlocked.Increment(ref FailedServerListings);
            }

            throw Failure();
        }

        if (targetMethod!.Name == nameof(IJobStore.InitializeAsync))
        {
            Interlocked.Increment(ref Initializations);
            if (InitializationDelay > TimeSpan.Zero)
            {
                return InitializeLaterAsync((CancellationToken)args![0]!);
            }
        }

        try
        {
            return targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
