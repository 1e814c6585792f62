using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store whose first park (<see cref="IJobSignalStore.AwaitSignalAsync"/>) reaches it only once the time it parks
/// until has passed (if that is seconds away, not hours), as a round trip slower than a short sleep would. Every other
/// call goes straight through.
/// </summary>
public class SlowParkStore : DispatchProxy
{
    private IJobStore _inner = null!;
    private int _parks;

    public static IJobStore Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, SlowParkStore>();
        ((SlowParkStore)(object)proxy)._inner = inner;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobSignalStore.AwaitSignalAsync) && Interlocked.Increment(ref _parks) == 1)
        {
            return ParkLateAsync(args!);
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

    private async ValueTask<JobSignalWait> ParkLateAsync(object?[] args)
    {
        var until = (DateTimeOffset)args[3]!;
        while (DateTimeOffset.UtcNow <= until && until - DateTimeOffset.UtcNow < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(until - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(1));
        }

        return await _inner.AwaitSignalAsync((string)args[0]!, (long)args[1]!, (IReadOnlyList<string>)args[2]!, until, (bool)args[4]!, (string)args[5]!, (CancellationToken)args[6]!);
    }
}
