using System.Runtime.InteropServices;

namespace Conveyor;

public sealed partial class JobServer
{
    /// <summary>How long cancelled handlers get to return after the grace period before the server stops waiting for them.</summary>
    private static readonly TimeSpan CancelledHandlerGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most the removal of this server's entry waits for the store. Real time, as it bounds a network call: a store
    /// that does not answer must not keep the process past its termination grace, and the entry expires with its
    /// heartbeat anyway.
    /// </summary>
    private static readonly TimeSpan RemovalTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Graceful shutdown: stop fetching, hand back jobs that were fetched but not started, give running handlers
    /// <see cref="JobServerOptions.ShutdownTimeout"/> to finish, then cancel them and return their jobs to their
    /// queues without counting the attempt. Leases keep being extended until the last acknowledgement is written,
    /// so no other server starts a job this one is still running. Handlers see the shutdown at once through
    /// <see cref="JobContext.ShutdownRequested"/>; a second SIGINT or SIGTERM during the grace period (a second
    /// Ctrl+C) ends it at once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_fetcher is null || _stopping)
        {
            return;
        }

        _stopping = true;
        Log.ServerStopping(_logger, ServerId, _held.Count, _options.ShutdownTimeout.TotalSeconds);
        using var secondSignal = ListenForSecondStopSignal();
        await _stopFetching.CancelAsync().ConfigureAwait(false);
        await _shutdownRequested.CancelAsync().ConfigureAwait(false);
        await _fetcher.ConfigureAwait(false);
        _buffer.Writer.TryComplete();
        ReleaseBufferedJobs();
        await _stopComponents.CancelAsync().ConfigureAwait(false);
        if (_leaseReconciler!.Due)
        {
            // A dequeue cancelled by the shutdown may have been applied all the same: its jobs go back now, their attempt
            // not counted, rather than wait out their lease while the handlers finish. Nothing takes leases any more,
            // once an acknowledgement that took released jobs before the stop has returned.
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2), _timeProvider);
            using var reconcile = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            await _leaseReconciler.RunAtShutdownAsync(reconcile.Token).ConfigureAwait(false);
        }

        var workers = Task.WhenAll(_workers);
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _graceCutShort.Token);
        if (!await CompletesWithinAsync(workers, _options.ShutdownTimeout, grace.Token).ConfigureAwait(false))
        {
            var running = _held.All.Where(r => r.Started).ToList();
            if (_graceCutShort.IsCancellationRequested)
            {
                Log.ShutdownGraceCutShort(_logger, running.Count);
            }
            else
            {
                Log.ShutdownGraceEnded(_logger, running.Count);
            }

            foreach (var run in running)
            {
                run.Stop(Server.StopReason.Shutdown);
            }

            // A handler that ignores its token cannot be waited for forever, nor stopped: its job is handed back as
            // the others are (the attempt not counted), and whatever the handler does from now on is not recorded.
            if (!await CompletesWithinAsync(workers, CancelledHandlerGrace, CancellationToken.None).ConfigureAwait(false))
            {
                foreach (var run in running.Where(static r => !r.HandlerReturned && r.TryClaimOutcome()))
                {
                    run.Stop(Server.StopReason.LeaseLost);
                    Log.HandlerIgnoredShutdown(_logger, run.Job.Id, run.Job.Type, run.Job.Queue, run.Job.Attempt, CancelledHandlerGrace.TotalSeconds);
                    HandBack(run);
                }
            }
        }

        _batcher!.Complete();
        if (!await CompletesWithinAsync(_batcherTask!, CancelledHandlerGrace, cancellationToken).ConfigureAwait(false))
        {
            await _abandon.CancelAsync().ConfigureAwait(false);
        }

        await _abandon.CancelAsync().ConfigureAwait(false);
        _cancellationSubscription?.Dispose();
        // Their store calls were cancelled; one the store does not end (it ignores the token, or never answers) is not
        // waited for beyond the bound, nor past the host's own shutdown timeout.
        var components = Task.WhenAll(_components.Append(_leaseExtender!).Append(_batcherTask!)).ContinueWith(static _ => { }, TaskScheduler.Default);
        await CompletesWithinAsync(components, CancelledHandlerGrace, cancellationToken).ConfigureAwait(false);
        try
        {
            using var removal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            removal.CancelAfter(RemovalTimeout);
            await _store.RemoveServerAsync(ServerId, removal.Token).AsTask().WaitAsync(removal.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.ServerRemovalFailed(_logger, e, ServerId);
        }

        Log.ServerStopped(_logger, ServerId);
    }

    /// <summary>Ends the grace period now: running handlers are cancelled and their jobs returned to their queues.</summary>
    internal void CutGracePeriodShort() => _graceCutShort.Cancel();

    /// <summary>
    /// While the server drains, a further SIGINT or SIGTERM (the operator's second Ctrl+C) cuts the grace period short.
    /// The signal's default action is cancelled, as the host's own console lifetime does, so the process still ends
    /// through an orderly stop that hands the jobs back.
    /// </summary>
    private IDisposable? ListenForSecondStopSignal()
    {
        if (OperatingSystem.IsBrowser() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsAndroid())
        {
            return null;
        }

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            CutGracePeriodShort();
        }

        try
        {
            return new SignalRegistrations(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    private sealed class SignalRegistrations(params IDisposable[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>
    /// Hands back at once the jobs fetched but not started, rather than leave them leased in the buffer while every
    /// worker is busy for up to the grace period.
    /// </summary>
    private void ReleaseBufferedJobs()
    {
        while (_buffer.Reader.TryRead(out var run))
        {
            // One the watch of jobs leased ahead handed back already is not handed back twice.
            if (run.TryLeaveBuffer() && run.Reason != Server.StopReason.LeaseLost)
            {
                HandBack(run);
            }

            _freeSlots.Release();
        }
    }

    /// <summary>Stops the server if it runs (as <see cref="StopAsync"/> with no token) and frees what it holds.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _servedLimitsInProcess?.Remove(_limits);
        _stopFetching.Dispose();
        _shutdownRequested.Dispose();
        _graceCutShort.Dispose();
        _stopComponents.Dispose();
        _abandon.Dispose();
    }

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
