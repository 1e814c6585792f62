using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store whose first <see cref="IJobStepStore.SaveStepAsync"/> (or first <c>failures</c>) of one step name fails with a
/// <see cref="JobStoreUnavailableException"/>, as a store gone for that one call would; held, it fails only at
/// <see cref="Release"/>, as a remote store's late answer would. Every other call goes straight through.
/// </summary>
public class FailingStepStore : DispatchProxy
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IJobStore _inner = null!;
    private string _stepName = null!;
    private bool _held;
    private int _failed;
    private int _failures = 1;

    public static (IJobStore Store, FailingStepStore Control) Wrap(IJobStore inner, string stepName, bool held = false, int failures = 1)
    {
        var proxy = Create<IJobStore, FailingStepStore>();
        var control = (FailingStepStore)(object)proxy;
        (control._inner, control._stepName, control._held, control._failures) = (inner, stepName, held, failures);
        return (proxy, control);
    }

    public void Release() => _gate.TrySetResult();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobStepStore.SaveStepAsync) && ((JobStep)args![2]!).Name == _stepName && Interlocked.Increment(ref _failed) <= _failures)
        {
            return FailAsync();
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

    private async ValueTask<bool> FailAsync()
    {
        if (_held)
        {
            await _gate.Task;
        }

        throw new JobStoreUnavailableException("the test store is down");
    }
}
