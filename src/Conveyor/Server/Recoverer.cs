using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Returns the jobs of dead workers: an active job whose lease expired goes back to pending (its attempt counted)
/// or, out of attempts, to failed. Every server runs one; the store makes each recovery atomic, so they never
/// recover a job twice. After an outage longer than a lease, this server's own leases have expired too although it
/// holds the results, not yet written, of jobs whose handlers returned (those still running were stopped by the
/// <see cref="LeaseExtender"/>): <paramref name="ownLeases"/> renews them before the first recovery, so that this
/// server does not recover, and fail or run again, jobs it is about to acknowledge; so it does too while the server's
/// renewals fail as unavailable, though the recoverer's own calls went through. The other servers' leases ran out in
/// the same outage, and they are about to acknowledge theirs too: after an outage long enough for a lease to run out
/// (a third of the pause or more; a blip of one tick is not), and from the start of a server that had to wait for its
/// store (<paramref name="pausedAtStart"/>), this server recovers nobody's jobs for <paramref name="pauseAfterOutage"/>
/// (a lease at least), so that a 20 s database restart does not run every job that finished during it a second time.
/// A point lookup at each paused tick notices another outage, after which the pause starts again, up to three pauses
/// from the first. A dead server's jobs wait that much longer.
/// </summary>
internal sealed class Recoverer(
    IJobStore store,
    JobReadySignal readySignal,
    ConveyorMetrics metrics,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger,
    LeaseExtender? ownLeases = null,
    TimeSpan pauseAfterOutage = default,
    bool pausedAtStart = false) : PeriodicComponent(interval, timeProvider, logger)
{
    private const int BatchSize = 100;
    private const int MostPausesInARow = 3;
    private readonly ILogger _logger = logger;
    private long? _pausedSince = pausedAtStart && pauseAfterOutage > TimeSpan.Zero ? timeProvider.GetTimestamp() : null;
    private long? _firstPausedAt = pausedAtStart && pauseAfterOutage > TimeSpan.Zero ? timeProvider.GetTimestamp() : null;

    protected override string Name => "Recoverer";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        // Also when only the renewals failed: a store that refuses some calls and takes others (a full Redis whose memory
        // comes and goes at its limit) let the recoverer, which saw no outage, recover the leases its server could not renew.
        if (ownLeases is not null && (StoreWasUnavailable || ownLeases.RenewalsUnavailable))
        {
            try
            {
                // A renewal the store cannot take leaves it unavailable: no recovery either, this tick.
                await ownLeases.RunOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not (JobStoreUnavailableException or OperationCanceledException))
            {
                // Not an outage, so waiting would not cure it: recovering the fleet's expired leases must not wait for it.
                Log.OwnLeasesNotRenewed(_logger, e);
            }
        }

        if (await PausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        IReadOnlyList<RecoveredJob> recovered;
        do
        {
            recovered = await store.RecoverExpiredLeasesAsync(BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (var job in recovered)
            {
                // Not an attempt in job_processed_total: a worker that lived on (a pause, an outage longer than the
                // lease) counted it already, lease_lost; a failure is counted by its outcome and said at Error.
                metrics.LeaseRecovered(job.Queue, job.NewState);
                if (job.NewState == JobState.Failed)
                {
                    Log.LeaseRecoveredAsFailed(_logger, job.JobId, job.Type, job.Queue);
                }
                else
                {
                    Log.LeaseRecovered(_logger, job.JobId, job.Type, job.Queue, job.NewState.ToApiStatus());
                }
            }

            if (recovered.Count > 0)
            {
                readySignal.Set();
            }
        }
        while (recovered.Count == BatchSize);
    }

    private async Task<bool> PausedAsync(CancellationToken cancellationToken)
    {
        if (pauseAfterOutage <= TimeSpan.Zero)
        {
            return false;
        }

        var now = TimeProvider.GetTimestamp();
        if (StoreWasUnavailable && OutageLength >= pauseAfterOutage / 3)
        {
            _firstPausedAt ??= now;
            _pausedSince = TimeProvider.GetElapsedTime(_firstPausedAt.Value) < MostPausesInARow * pauseAfterOutage ? now : _pausedSince;
        }

        if (_pausedSince is not { } since)
        {
            return false;
        }

        if (TimeProvider.GetElapsedTime(since) >= pauseAfterOutage)
        {
            (_pausedSince, _firstPausedAt) = (null, null);
            return false;
        }

        // A point lookup proves the store is back (ending the outage) even when this server renewed no lease, and a
        // failed one is another outage, after which the pause starts again.
        await store.GetAsync(TenantId.Default, "recoverer-probe", cancellationToken).ConfigureAwait(false);
        return true;
    }
}
