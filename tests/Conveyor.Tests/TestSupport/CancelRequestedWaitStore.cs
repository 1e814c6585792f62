using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store that answers every wait whose own deadline has passed (<see cref="IJobSignalStore.AwaitSignalAsync"/>
/// with recordTimeout) with a cancel request, as a store would for a job cancelled while it ran, without the server
/// having heard of the request. Every other call goes straight through.
/// </summary>
public class CancelRequestedWaitStore : DispatchProxy
{
    private IJobStore _inner = null!;

    public static IJobStore Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, CancelRequestedWaitStore>();
        ((CancelRequestedWaitStore)(object)proxy)._inner = inner;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobSignalStore.AwaitSignalAsync) && (bool)args![4]!)
        {
            return ValueTask.FromResult(new JobSignalWait(JobSignalWaitOutcome.CancelRequested));
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
}
