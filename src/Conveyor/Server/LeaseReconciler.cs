using System.Threading.Channels;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Hands back the leases the store gave this server in a call whose answer never arrived. A call that takes leases (the
/// fetcher's dequeue, an acknowledgement that takes the jobs it released) can fail here, by a timeout, a broken
/// connection or a cancellation at shutdown, after the store applied it: a frozen Redis runs the queued script when it
/// resumes, and PostgreSQL may commit before it notices that its client left. No worker knows those jobs; left alone,
/// they would wait out their lease and be recovered with their attempt counted, and a job without retries left would
/// fail without having run. After such a failure, and only then, this server lists its leases in the store
/// (<see cref="IJobQueueStore.ListLeasesAsync"/>) and hands back each one it neither holds nor let lapse
/// (<see cref="HeldJobs.Knows"/>: id and token) as <see cref="AckOutcome.Released"/>: at the head of its queue, its
/// attempt not counted.
/// </summary>
/// <remarks>
/// A lease taken by a call still in flight is not held yet either, and handing it back would run its job twice. So a
/// listing closes a gate first: a lease-taking call that would start now waits at it (<see cref="TryCallStarting"/>,
/// <see cref="CallStartingAsync"/>), the listing waits for the calls in flight to end (a call ends only once the jobs it
/// leased are held), lists, and opens the gate. On a busy server a dequeue is nearly always in flight, and without the
/// gate nearly every listing met one. The gate is closed at most <paramref name="gateLimit"/> (a fraction of a lease),
/// whether the call in flight or the listing is slow, fails or hangs: the listing is then cut off and tried again an
/// <paramref name="interval"/> later, and the calls go on. As a guard should the gate open before the listing returns, a
/// listing counts only if no call began or ended while it ran (a generation moved at every start and end); otherwise it
/// is tried again shortly. The store may apply a lost call after the caller heard of its failure (a statement left
/// running, a script queued on a frozen server), so listings go on, one every <paramref name="interval"/>, until one
/// begun at least <paramref name="settleTime"/> after the last failure found nothing to hand back. No failure, no
/// listing and no closed gate: the calls themselves only count, under one lock.
/// </remarks>
internal sealed class LeaseReconciler(
    IJobStore store,
    HeldJobs held,
    JobReadySignal readySignal,
    string serverId,
    TimeSpan interval,
    TimeSpan settleTime,
    TimeSpan gateLimit,
    TimeProvider timeProvider,
    ILogger logger)
{
    /// <summary>The first wait after a listing that a call in flight spoiled; it doubles up to <c>interval</c>.</summary>
    internal static readonly TimeSpan FirstRetryAfterRace = TimeSpan.FromMilliseconds(50);

    private readonly Lock _lock = new();
    private readonly Channel<bool> _failures = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = false });

    private int _callsInFlight;
    private int _callsAtGate;
    private int _listing;
    private long _generation;

    // When the last lease-taking call failed, while listings are due; null when none is.
    private long? _failedAt;

    // Closed while set, for one listing; completed as it opens, which frees the calls waiting at it.
    private TaskCompletionSource? _gate;

    // Completed when the last call in flight ends while the gate is closed.
    private TaskCompletionSource? _callsEnded;

    /// <summary>What one <see cref="RunOnceAsync"/> did.</summary>
    internal enum Outcome
    {
        /// <summary>No call failed since the last listing that settled: nothing was asked of the store.</summary>
        NotDue,

        /// <summary>
        /// A lease-taking call began or ended during the listing (the gate opened at its limit), or another listing ran:
        /// it does not count, and is tried again shortly.
        /// </summary>
        Raced,

        /// <summary>
        /// A call in flight or the listing outlasted the gate's limit: the gate opened and the listing was given up, to be
        /// tried again an interval later.
        /// </summary>
        CutOff,

        /// <summary>The listing counted and found nothing to hand back.</summary>
        NothingToHandBack,

        /// <summary>The listing counted and leases this server did not know of were handed back.</summary>
        HandedBack,
    }

    /// <summary>Whether a listing is due: a lease-taking call failed, and no listing has settled it yet.</summary>
    public bool Due
    {
        get
        {
            lock (_lock)
            {
                return _failedAt is not null;
            }
        }
    }

    /// <summary>Lease-taking calls waiting at the closed gate.</summary>
    internal int CallsAtGate => Volatile.Read(ref _callsAtGate);

    /// <summary>
    /// A lease-taking call is about to be sent: counts it in flight and returns true, unless the gate is closed for a
    /// listing; then it returns false, and the caller sends its call after <see cref="CallStartingAsync"/>.
    /// </summary>
    public bool TryCallStarting()
    {
        lock (_lock)
        {
            if (_gate is not null)
            {
                return false;
            }

            _callsInFlight++;
            _generation++;
            return true;
        }
    }

    /// <summary>
    /// Waits for the gate to open, at most as long as the listing that closed it, then counts the call in flight as
    /// <see cref="TryCallStarting"/> does. Throws only when <paramref name="cancellationToken"/> ends the wait; the call
    /// is then not counted.
    /// </summary>
    public async Task CallStartingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _callsAtGate);
        try
        {
            while (!TryCallStarting())
            {
                Task opened;
                lock (_lock)
                {
                    opened = _gate?.Task ?? Task.CompletedTask;
                }

                await opened.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _callsAtGate);
        }
    }

    /// <summary>
    /// A lease-taking call returned, and the jobs it leased are held; or it failed (<paramref name="failed"/>: whatever it
    /// leased may be in the store, unknown here).
    /// </summary>
    public void CallEnded(bool failed)
    {
        TaskCompletionSource? callsEnded = null;
        lock (_lock)
        {
            _callsInFlight--;
            _generation++;
            if (failed)
            {
                _failedAt = timeProvider.GetTimestamp();
            }

            if (_callsInFlight == 0)
            {
                (callsEnded, _callsEnded) = (_callsEnded, null);
            }
        }

        callsEnded?.TrySetResult();
        if (failed)
        {
            _failures.Writer.TryWrite(true);
        }
    }

    /// <summary>Lists this server's leases after every failure, as the remarks describe, until <paramref name="cancellationToken"/> ends it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _failures.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _failures.Reader.TryRead(out _);
                await ReconcileWhileDueAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One listing at a graceful shutdown, once fetching stopped, if one is due: a dequeue cancelled by the shutdown may
    /// have been applied all the same. An acknowledgement that takes released jobs, sent before the stop, may still be in
    /// flight: the listing waits for it, as long as <paramref name="cancellationToken"/> allows. Not for the gate's limit:
    /// nothing waits at the gate any more (fetching stopped, released jobs are no longer taken).
    /// </summary>
    public async Task RunAtShutdownAsync(CancellationToken cancellationToken)
    {
        try
        {
            var wait = FirstRetryAfterRace;
            while (await ListOnceAsync(cancellationToken, Timeout.InfiniteTimeSpan).ConfigureAwait(false) == Outcome.Raced)
            {
                await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
                wait = Doubled(wait);
            }
        }
        catch (Exception e)
        {
            // Those leases expire and are recovered, as before this server knew how to hand them back.
            Log.LeaseReconcileFailed(logger, e, store.Name);
        }
    }

    private async Task ReconcileWhileDueAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff();
        var afterRace = FirstRetryAfterRace;
        while (true)
        {
            TimeSpan wait;
            try
            {
                var outcome = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                if (outcome == Outcome.NotDue)
                {
                    return;
                }

                backoff.Reset();
                if (outcome == Outcome.Raced)
                {
                    wait = afterRace;
                    afterRace = Doubled(afterRace);
                }
                else
                {
                    // After a cut-off listing too: the store is slow, and another so soon would hold up the calls again
                    // for nothing.
                    wait = interval;
                    afterRace = FirstRetryAfterRace;
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The store is still away: the fetcher says so already; this is only worth a line now and then.
                wait = backoff.Next();
                if (backoff.IsWorthLogging)
                {
                    Log.LeaseReconcileFailed(logger, e, store.Name);
                }
            }

            if (!Due)
            {
                return;
            }

            await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The next wait after a listing that a call in flight spoiled: twice the last, at most the interval.</summary>
    private TimeSpan Doubled(TimeSpan wait) => wait * 2 < interval ? wait * 2 : interval;

    /// <summary>One listing, if one is due, and the hand-back of what it found that this server does not know of.</summary>
    internal async Task<Outcome> RunOnceAsync(CancellationToken cancellationToken) => await ListOnceAsync(cancellationToken, gateLimit).ConfigureAwait(false);

    private async Task<Outcome> ListOnceAsync(CancellationToken cancellationToken, TimeSpan limitOfGate)
    {
        // The loop and the shutdown's listing may meet: one listing at a time, the other tries again.
        if (Interlocked.Exchange(ref _listing, 1) == 1)
        {
            return Outcome.Raced;
        }

        try
        {
            return await ListAndHandBackAsync(limitOfGate, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _listing, 0);
        }
    }

    private async Task<Outcome> ListAndHandBackAsync(TimeSpan limitOfGate, CancellationToken cancellationToken)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Made before the gate closes: nothing between its closing and the try that opens it again may throw.
        using var limit = new CancellationTokenSource(limitOfGate, timeProvider);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        long failedAt;
        Task callsEnded;
        lock (_lock)
        {
            if (_failedAt is not { } failed)
            {
                return Outcome.NotDue;
            }

            failedAt = failed;
            _gate = gate;
            callsEnded = _callsInFlight == 0 ? Task.CompletedTask : (_callsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        long generation;
        long listedAt;
        long lapseMark;
        IReadOnlyList<LeaseRef> leases;

        // The gate opens at the limit even if the store does not heed the token: the calls must not wait out a hung store.
        using (bounded.Token.Register(() => OpenGate(gate)))
        {
            try
            {
                await callsEnded.WaitAsync(bounded.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    generation = _generation;
                }

                listedAt = timeProvider.GetTimestamp();
                lapseMark = held.LapseMark;
                leases = await store.ListLeasesAsync(serverId, bounded.Token).ConfigureAwait(false);

                // Checked before the gate opens: the calls it lets through move the generation at once.
                lock (_lock)
                {
                    if (_callsInFlight > 0 || _generation != generation)
                    {
                        // A store that answered after the limit (Redis does not heed the token) let calls through the
                        // open gate: cut off, as one that heeded it, not a race worth trying again at once.
                        if (!limit.IsCancellationRequested)
                        {
                            return Outcome.Raced;
                        }

                        Log.LeaseListingCutOff(logger, store.Name, (int)limitOfGate.TotalMilliseconds);
                        return Outcome.CutOff;
                    }
                }
            }
#pragma warning disable CA1031 // At the limit the listing is given up, however the store words its cancellation.
            catch (Exception) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                Log.LeaseListingCutOff(logger, store.Name, (int)limitOfGate.TotalMilliseconds);
                return Outcome.CutOff;
            }
            finally
            {
                OpenGate(gate);
            }
        }

        // Every call that leased anything before the listing began had ended, its jobs held: what is neither held nor let
        // lapse was leased by a call whose answer was lost. A job acknowledged since the listing read it is handed back
        // under its old token, which the store ignores.
        List<JobAcknowledgement>? handBacks = null;
        foreach (var lease in leases)
        {
            if (!held.Knows(lease))
            {
                (handBacks ??= []).Add(new JobAcknowledgement { JobId = lease.JobId, LeaseToken = lease.LeaseToken, Outcome = AckOutcome.Released });
            }
        }

        held.ForgetLapsed(lapseMark, leases);
        if (handBacks is not null)
        {
            await store.AcknowledgeManyAsync(handBacks, cancellationToken).ConfigureAwait(false);
            foreach (var handBack in handBacks)
            {
                Log.UnknownLeaseHandedBack(logger, handBack.JobId, handBack.LeaseToken);
            }

            // They are pending again, at the head of their queues: a fetcher backing off after the failure takes them now.
            readySignal.Set();
        }

        lock (_lock)
        {
            // Settled by a listing begun long enough after the last failure that found nothing; a failure since then
            // (another _failedAt) keeps listings due.
            if (handBacks is null && _failedAt == failedAt && timeProvider.GetElapsedTime(failedAt, listedAt) >= settleTime)
            {
                _failedAt = null;
            }
        }

        return handBacks is null ? Outcome.NothingToHandBack : Outcome.HandedBack;
    }

    /// <summary>Opens <paramref name="gate"/> if it is still the one closed, and frees the calls waiting at it.</summary>
    private void OpenGate(TaskCompletionSource gate)
    {
        lock (_lock)
        {
            if (_gate == gate)
            {
                (_gate, _callsEnded) = (null, null);
            }
        }

        gate.TrySetResult();
    }
}
