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

        var askedAt = TimeProvider.GetUtcNow();
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

        foreach (var lease in leases)
        {
            if (held.TryGet(lease.JobId, out var run))
            {
                run.LeaseExtended(askedAt + leaseDuration);
            }
        }

        foreach (var jobId in result.CancelRequested)
        {
            if (held.TryGet(jobId, out var run))
            {
                run.Stop(StopReason.CancelRequested);
            }
        }

        await ExtendIdempotencyKeysAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves the expiry of the idempotency records that running handlers hold to their leases' new expiry, in one round
    /// trip for all of them (none when no idempotent handler runs): a record follows its lease, so a duplicate waits as
    /// long as the holder lives and no longer than one lease after it died.
    /// </summary>
    private async Task ExtendIdempotencyKeysAsync(CancellationToken cancellationToken)
    {
        List<IdempotencyClaim>? claims = null;
        foreach (var run in held.All)
        {
            if (run.IdempotencyKey is { } key && run.Reason != StopReason.LeaseLost)
            {
                (claims ??= []).Add(new IdempotencyClaim(key, new LeaseRef(run.Job.Id, run.Job.LeaseToken)));
            }
        }

        if (claims is null)
        {
            return;
        }

        try
        {
            await store.ExtendIdempotencyKeysAsync(claims, TimeProvider.GetUtcNow() + leaseDuration, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException e)
        {
            // The leases were just extended, so the store answered a moment ago; the next tick tries again, well
            // before these records (a lease long) expire.
            Log.IdempotencyExtendFailed(Logger, claims.Count, e.Message);
        }
    }
}
