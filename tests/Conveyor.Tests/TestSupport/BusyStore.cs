using System.Reflection;
using Conveyor.Storage;

namespace Conveyor.Tests.TestSupport;

/// <summary>
/// Wraps a store as a busy server sees it: every dequeue, acknowledgement that takes released jobs and listing of leases
/// takes a round trip (about a millisecond of real time), and every job a dequeue leases is replaced at once by a copy
/// (same type, payload and retries, a new id), so the backlog never shrinks and the fetcher dequeues back to back.
/// <see cref="FailNextListing"/> fails the next listing of leases, as a store still away when the server first looks.
/// Every other call goes straight through.
/// </summary>
public class BusyStore : DispatchProxy
{
    private static readonly TimeSpan RoundTrip = TimeSpan.FromMilliseconds(1);

    private IJobStore _inner = null!;
    private int _failNextListing;
    private int _listings;

    /// <summary>Listings of leases sent, including the failed ones.</summary>
    public int Listings => Volatile.Read(ref _listings);

    public static (IJobStore Store, BusyStore Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, BusyStore>();
        var control = (BusyStore)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    public void FailNextListing() => Volatile.Write(ref _failNextListing, 1);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        switch (targetMethod!.Name)
        {
            case nameof(IJobQueueStore.DequeueAsync):
                return DequeueAsync((DequeueRequest)args![0]!, (CancellationToken)args[1]!);
            case nameof(IJobQueueStore.AcknowledgeAndTakeReleasedAsync):
                return TakeReleasedAsync((IReadOnlyList<JobAcknowledgement>)args![0]!, (DequeueRequest)args[1]!, (CancellationToken)args[2]!);
            case nameof(IJobQueueStore.ListLeasesAsync):
                return ListLeasesAsync((string)args![0]!, (CancellationToken)args[1]!);
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

    private async ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken)
    {
        await Task.Delay(RoundTrip, cancellationToken);
        var jobs = await _inner.DequeueAsync(request, cancellationToken);
        foreach (var job in jobs)
        {
            await _inner.EnqueueAsync(new NewJob
            {
                Id = JobId.New(),
                Type = job.Type,
                Queue = job.Queue,
                Tenant = job.Tenant,
                Payload = job.Payload,
                MaxRetry = job.MaxRetry,
                Retention = TimeSpan.FromDays(1),
            }, CancellationToken.None);
        }

        return jobs;
    }

    private async ValueTask<AcknowledgeResult> TakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken)
    {
        await Task.Delay(RoundTrip, cancellationToken);
        return await _inner.AcknowledgeAndTakeReleasedAsync(acknowledgements, next, cancellationToken);
    }

    private async ValueTask<IReadOnlyList<LeaseRef>> ListLeasesAsync(string serverId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _listings);
        await Task.Delay(RoundTrip, cancellationToken);
        return Interlocked.Exchange(ref _failNextListing, 0) == 1
            ? throw new JobStoreUnavailableException("the test store is still away")
            : await _inner.ListLeasesAsync(serverId, cancellationToken);
    }
}
