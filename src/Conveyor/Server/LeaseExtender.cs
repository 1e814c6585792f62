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
    private volatile bool _askedTheStore;

    protected override string Name => "Lease extender";

    protected override bool LastTickAskedTheStore => _askedTheStore;

    /// <summary>True while this server's renewals fail as unavailable: its leases may be running out though it holds them.</summary>
    public bool RenewalsUnavailable => StoreWasUnavailable;

    /// <summary>
    /// Extends the leases at every tick and, beside it, on a timer of its own, stops the runs past their lease: a store
    /// call that hangs (a partition, a failover's queued commands) must not postpone that.
    /// </summary>
    public override Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(base.RunAsync(cancellationToken), StopRunsPastTheirLeaseAsync(cancellationToken));

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        StopRunsPastTheirLease();
        var leases = held.Leases();
        _askedTheStore = leases.Count > 0;
        if (leases.Count == 0)
        {
            return;
        }

        var askedAt = TimeProvider.GetUtcNow();
        var result = await store.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = serverId, Leases = leases, LeaseDuration = leaseDuration },
            cancellationToken).ConfigureAwait(false);

        // A lease is lost or extended as it was asked for: the same job may be held under a newer lease by now.
        var asked = leases.ToDictionary(static l => l.JobId, static l => l.LeaseToken, StringComparer.Ordinal);
        foreach (var jobId in result.Lost)
        {
            if (held.TryGet(jobId, out var run) && asked.TryGetValue(jobId, out var token) && run.Job.LeaseToken == token)
            {
                held.Remove(jobId, token);
                run.Stop(StopReason.LeaseLost);
            }
        }

        foreach (var lease in leases)
        {
            if (held.TryGet(lease.JobId, out var run) && run.Job.LeaseToken == lease.LeaseToken)
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
    /// Stops the runs whose lease this server could not extend before it expired (the store was away longer than a
    /// lease): the recoverer of another server may already have handed the job to someone else, so the handler is
    /// cancelled, nothing it does is recorded, and its lease is no longer extended. Checked at every tick, before the
    /// store is asked, so an outage does not postpone it. A run whose handler has already returned keeps its lease: its
    /// acknowledgement is recorded if no other server took the job meanwhile.
    /// </summary>
    private void StopRunsPastTheirLease()
    {
        var now = TimeProvider.GetUtcNow();
        foreach (var run in held.All)
        {
            // A run not started yet is handed back by its worker instead (JobServer.RunOneAsync), without counting an attempt.
            if (run.Started && !run.HandlerReturned && now >= run.LeaseHeldUntil && held.LetLapse(run.Job.Id, run.Job.LeaseToken))
            {
                run.Stop(StopReason.LeaseLost);
                Log.LeaseExpiredUnextended(Logger, run.Job.Id, run.Job.Type, run.Job.Queue, run.Job.Attempt, InstantText.Format(run.LeaseHeldUntil));
            }
        }
    }

    private async Task StopRunsPastTheirLeaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(UntilNextCheck(), TimeProvider, cancellationToken).ConfigureAwait(false);
                StopRunsPastTheirLease();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Until the earliest expiry of a running handler's lease, as this server knows it (never later than the store's, which
    /// counts the lease from when it got the request), and at most half a period, for runs that start meanwhile. Checked
    /// on a fixed period instead, a handler was cancelled up to that period after its lease expired, while another
    /// server's recoverer could already run its job again.
    /// </summary>
    private TimeSpan UntilNextCheck()
    {
        var wait = Period / 2;
        var now = TimeProvider.GetUtcNow();
        foreach (var run in held.All)
        {
            // One already past its lease was stopped at the last check, or is not this extender's to stop.
            if (run.Started && !run.HandlerReturned && run.LeaseHeldUntil - now is var left && left > TimeSpan.Zero && left < wait)
            {
                wait = left;
            }
        }

        return wait;
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
