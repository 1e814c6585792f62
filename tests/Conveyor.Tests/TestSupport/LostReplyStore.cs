using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store; a call armed to lose its reply is applied by the inner store and then throws
/// <see cref="JobStoreUnavailableException"/>, as a call whose answer an outage lost (a timeout on a frozen Redis, a
/// connection broken after PostgreSQL committed). Only a call that leased jobs loses its reply, so what it leased is
/// left active, leased to the server, and unknown to it. Every other call goes straight through.
/// </summary>
public class LostReplyStore : DispatchProxy
{
    private IJobStore _inner = null!;
    private int _loseDequeue;
    private int _loseDequeueInPart;
    private int _loseTakeReleased;
    private int _lostReplies;

    /// <summary>The jobs the calls whose replies were lost leased.</summary>
    public List<LeasedJob> Lost { get; } = [];

    public int LostReplies => Volatile.Read(ref _lostReplies);

    public static (IJobStore Store, LostReplyStore Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, LostReplyStore>();
        var control = (LostReplyStore)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    /// <summary>The next dequeue that leases a job loses its reply.</summary>
    public void LoseNextDequeueReply() => Volatile.Write(ref _loseDequeue, 1);

    /// <summary>
    /// The next dequeue that leases a job answers as a <see cref="PartialDequeue"/> without it: as a Redis Cluster dequeue
    /// whose call on a frozen primary timed out, and which that primary ran when it resumed.
    /// </summary>
    public void LoseNextDequeueReplyInPart() => Volatile.Write(ref _loseDequeueInPart, 1);

    /// <summary>The next acknowledgement that takes a released job loses its reply.</summary>
    public void LoseNextTakeReleasedReply() => Volatile.Write(ref _loseTakeReleased, 1);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        object? result;
        try
        {
            result = targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }

        return targetMethod.Name switch
        {
            nameof(IJobQueueStore.DequeueAsync) => DequeueAsync((ValueTask<IReadOnlyList<LeasedJob>>)result!),
            nameof(IJobQueueStore.AcknowledgeAndTakeReleasedAsync) => TakeReleasedAsync((ValueTask<AcknowledgeResult>)result!),
            _ => result,
        };
    }

    private async ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(ValueTask<IReadOnlyList<LeasedJob>> call)
    {
        var jobs = await call;
        if (jobs.Count > 0 && Interlocked.Exchange(ref _loseDequeueInPart, 0) == 1)
        {
            return new PartialDequeue([], LoseReply(jobs));
        }

        return jobs.Count > 0 && Interlocked.Exchange(ref _loseDequeue, 0) == 1 ? throw LoseReply(jobs) : jobs;
    }

    private async ValueTask<AcknowledgeResult> TakeReleasedAsync(ValueTask<AcknowledgeResult> call)
    {
        var result = await call;
        return result.Leased.Count > 0 && Interlocked.Exchange(ref _loseTakeReleased, 0) == 1 ? throw LoseReply(result.Leased) : result;
    }

    private JobStoreUnavailableException LoseReply(IReadOnlyList<LeasedJob> jobs)
    {
        lock (Lost)
        {
            Lost.AddRange(jobs);
        }

        Interlocked.Increment(ref _lostReplies);
        return new JobStoreUnavailableException("the test store applied the call and lost its reply");
    }
}
