using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Extends every lease this server holds in one round trip per tick (not one per job), every third of the lease.
/// The store's answer also carries the cancellation requests for running jobs and the leases that were lost.
/// </summary>
internal sealed class LeaseExtender(
    IJobStore store,
    HeldJobs held,
    string serverId,
    TimeSpan leaseDuration,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(leaseDuration / 3, timeProvider, logger)
{
    protected override string Name => "Lease extender";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var leases = held.Leases();
        if (leases.Count == 0)
        {
            return;
        }

        var result = await store.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = serverId, Leases = leases, LeaseDuration = leaseDuration },
            cancellationToken).ConfigureAwait(false);
        foreach (var jobId in result.Lost)
        {
            if (held.TryGet(jobId, out var run))
            {
                held.Remove(jobId);
                run.Stop(StopReason.LeaseLost);
            }
        }

        foreach (var jobId in result.CancelRequested)
        {
            if (held.TryGet(jobId, out var run))
            {
                run.Stop(StopReason.CancelRequested);
            }
        }
    }
}
