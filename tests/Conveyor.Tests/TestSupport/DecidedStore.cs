using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store that decides some calls of a handler's attempt itself: every wait whose own deadline has passed
/// (<see cref="IJobSignalStore.AwaitSignalAsync"/> with recordTimeout) answered with one outcome (a cancel request, as a
/// store would for a job cancelled while it ran without the server having heard of it; a lost lease, as for a job whose
/// lease another server took meanwhile), or every step refused as saved under a lost lease. Every other call goes
/// straight through. Or a store that never extends a lease, as one away for longer than a lease.
/// </summary>
public class DecidedStore : DispatchProxy
{
    private IJobStore _inner = null!;
    private JobSignalWaitOutcome? _waits;
    private bool _stepsLoseTheLease;
    private bool _leasesNotExtended;

    public static IJobStore AnsweringWaits(IJobStore inner, JobSignalWaitOutcome outcome) => Wrap(inner, outcome, stepsLoseTheLease: false);

    public static IJobStore LosingTheLeaseOnSteps(IJobStore inner) => Wrap(inner, null, stepsLoseTheLease: true);

    public static IJobStore NotExtendingLeases(IJobStore inner)
    {
        var store = Wrap(inner, null, stepsLoseTheLease: false);
        ((DecidedStore)(object)store)._leasesNotExtended = true;
        return store;
    }

    private static IJobStore Wrap(IJobStore inner, JobSignalWaitOutcome? waits, bool stepsLoseTheLease)
    {
        var proxy = Create<IJobStore, DecidedStore>();
        var decided = (DecidedStore)(object)proxy;
        (decided._inner, decided._waits, decided._stepsLoseTheLease) = (inner, waits, stepsLoseTheLease);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (_waits is { } outcome && targetMethod!.Name == nameof(IJobSignalStore.AwaitSignalAsync) && (bool)args![4]!)
        {
            return ValueTask.FromResult(new JobSignalWait(outcome));
        }

        if (_stepsLoseTheLease && targetMethod!.Name == nameof(IJobStepStore.SaveStepAsync))
        {
            return ValueTask.FromResult(false);
        }

        if (_leasesNotExtended && targetMethod!.Name == nameof(IJobQueueStore.ExtendLeasesAsync))
        {
            return ValueTask.FromException<LeaseExtension>(new JobStoreUnavailableException("The store is away."));
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
