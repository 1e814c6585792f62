using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store and holds the <see cref="IJobStepStore.SaveStepAsync"/> of one step name until <see cref="Release"/>, as
/// a slow round trip to a remote store would: a wait started beside another is still writing its deadline when the
/// other has ended the attempt. Every other call goes straight through.
/// </summary>
public class HeldStepStore : DispatchProxy
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IJobStore _inner = null!;
    private string _stepName = null!;

    public static (IJobStore Store, HeldStepStore Control) Wrap(IJobStore inner, string stepName)
    {
        var proxy = Create<IJobStore, HeldStepStore>();
        var control = (HeldStepStore)(object)proxy;
        (control._inner, control._stepName) = (inner, stepName);
        return (proxy, control);
    }

    public void Release() => _gate.TrySetResult();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobStepStore.SaveStepAsync) && ((JobStep)args![2]!).Name == _stepName)
        {
            return SaveHeldStepAsync((string)args[0]!, (long)args[1]!, (JobStep)args[2]!, (CancellationToken)args[3]!);
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

    private async ValueTask<bool> SaveHeldStepAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken)
    {
        await _gate.Task;
        return await _inner.SaveStepAsync(jobId, leaseToken, step, cancellationToken);
    }
}
