using System.Collections.Concurrent;
using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps the in-memory store and counts its calls by method name, for a test to wait until one was made: that store
/// answers before its call returns, so a call counted has been answered.
/// </summary>
public class CountingStore : DispatchProxy
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private IJobStore _inner = null!;

    public static (IJobStore Store, CountingStore Counts) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, CountingStore>();
        var counts = (CountingStore)(object)proxy;
        counts._inner = inner;
        return (proxy, counts);
    }

    public int Calls(string method) => _calls.GetValueOrDefault(method);

    /// <summary>When set, runs after each call with the method's name (a test's clock moving while the store works).</summary>
    public Action<string>? AfterCall { get; set; }

    /// <summary>When set, runs before each call with the method's name and arguments (a test's store refusing one call).</summary>
    public Action<string, object?[]?>? BeforeCall { get; set; }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        try
        {
            BeforeCall?.Invoke(targetMethod!.Name, args);
            return targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
        finally
        {
            _calls.AddOrUpdate(targetMethod!.Name, 1, (_, n) => n + 1);
            AfterCall?.Invoke(targetMethod.Name);
        }
    }
}
