using Conveyor.Sqlite.Internal;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <summary>The signal generation that this instance's workers have already acted on (by a dequeue or a wake).</summary>
    private long _seenGeneration;

    /// <summary>The writer connection's last PRAGMA data_version; read and written under the write lock.</summary>
    private long _lastDataVersion;

    /// <summary>
    /// Waits that ended on a reported write to the log and whose dequeue then found nothing, in a row (another process's
    /// jobs are in queues this process does not serve, or held back by a limit). From <see cref="WastedReportsToIgnore"/>
    /// on, the waits look at the poll only, as before the watch, until a dequeue finds jobs again; otherwise a process
    /// that writes thousands of commits a second would wake this one for an empty dequeue at every commit. A few are
    /// let through: a job another worker took between the check and the dequeue also leaves one empty.
    /// </summary>
    private int _wastedReports;
    private volatile bool _wokeByReport;
    private const int WastedReportsToIgnore = 3;

    internal const int WastedReportsToIgnoreForTests = WastedReportsToIgnore;

    /// <summary>Whether a call holds this instance's write lock.</summary>
    internal bool WriteLockHeldForTests => _writeLock.CurrentCount == 0;

    /// <summary>How many looks at the file for other processes' jobs the waits have begun.</summary>
    internal int LooksBegunForTests => Volatile.Read(ref _looksBegun);

    private int _looksBegun;

    /// <summary>Started by the first wait (a process that only enqueues never watches), disposed with the store.</summary>
    private readonly Lock _logWatcherLock = new();
    private WriteAheadLogWatcher? _logWatcher;
    private bool _logWatcherStarted;

    /// <summary>
    /// Completes when a job may have become ready, or after <paramref name="timeout"/> (measured with the
    /// <see cref="TimeProvider"/>). An enqueue, promotion, release, recovery, requeue or resume by any store
    /// instance of the same file in this process wakes the waiter at once. Writes by other processes are
    /// noticed through <c>PRAGMA data_version</c>, and wake the waiter when a job is pending: checked as soon as
    /// the file system reports a write to the write-ahead log, and every
    /// <see cref="SqliteStoreOptions.ExternalChangePollInterval"/> in any case.
    /// </summary>
    /// <remarks>
    /// A signal that fired after this instance's last dequeue began and before this wait counts: the wait
    /// returns true at once, so a job enqueued between an empty dequeue and the wait is never left waiting
    /// for the timeout.
    /// </remarks>
    public async ValueTask<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A cancel or a timeout answers false without throwing (IJobQueueStore.WaitForJobsAsync).
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);

        // Read the task before the generation: a Fire in between is then seen by one or the other.
        var next = _signal.NextAsync;
        var generation = _signal.Generation;
        if (generation != Volatile.Read(ref _seenGeneration))
        {
            Volatile.Write(ref _seenGeneration, generation);
            return true;
        }

        var infinite = timeout == Timeout.InfiniteTimeSpan;
        if (timeout <= TimeSpan.Zero && !infinite)
        {
            return false;
        }

        var started = _timeProvider.GetTimestamp();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var timedOut = Task.Delay(timeout, _timeProvider, stop.Token);
            var logWatcher = _singleConnection || Volatile.Read(ref _wastedReports) >= WastedReportsToIgnore ? null : LogWatcher();
            var written = logWatcher?.NextWriteAsync();
            var pollSoon = false;
            while (true)
            {
                // After a reported write that showed no commit yet, the next look comes soon: SQLite makes a commit
                // visible to data_version just after its last write to the log.
                var poll = _singleConnection ? null : Task.Delay(pollSoon ? RecheckAfterWrite : _pollInterval, _timeProvider, stop.Token);
                Task[] waits = (poll, written) switch
                {
                    (null, _) => [next, timedOut],
                    (_, null) => [next, timedOut, poll],
                    _ => [next, timedOut, poll, written],
                };
                var woken = await Task.WhenAny(waits).ConfigureAwait(false);
                if (woken == next)
                {
                    Volatile.Write(ref _seenGeneration, _signal.Generation);
                    return true;
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                // The timeout wins over a poll that became due at the same moment.
                if (woken == timedOut || (!infinite && _timeProvider.GetElapsedTime(started) >= timeout))
                {
                    return false;
                }

                // Taken before the check, so that a write reported during it wakes this loop again.
                var byReport = pollSoon || (woken == written && written is not null);
                pollSoon = woken == written && written is not null;
                if (pollSoon)
                {
                    written = logWatcher!.NextWriteAsync();
                }

                if (await LookForExternalJobsAsync(cancellationToken).ConfigureAwait(false))
                {
                    _wokeByReport = byReport;
                    return true;
                }
            }
        }
        finally
        {
            // Drops the timers still pending.
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>After each dequeue: whether the reports of writes to the log are worth waking for (<see cref="_wastedReports"/>).</summary>
    private void NoteDequeueAfterWake(int leased)
    {
        if (leased > 0)
        {
            Volatile.Write(ref _wastedReports, 0);
        }
        else if (_wokeByReport)
        {
            Interlocked.Increment(ref _wastedReports);
        }

        _wokeByReport = false;
    }

    /// <summary>How soon the store looks again when a reported write to the log showed no new commit.</summary>
    private static readonly TimeSpan RecheckAfterWrite = TimeSpan.FromMilliseconds(1);

    private WriteAheadLogWatcher? LogWatcher()
    {
        if (!_watchWriteAheadLog)
        {
            return null;
        }

        lock (_logWatcherLock)
        {
            if (!_logWatcherStarted && !_disposed)
            {
                _logWatcherStarted = true;
                _logWatcher = WriteAheadLogWatcher.TryStart(_databaseName);
            }

            return _logWatcher;
        }
    }

    /// <summary>
    /// <see cref="ExternalJobsAppearedAsync"/>, not cancelled with the wait: under load the look waits for the write lock,
    /// and a cancel there threw at a few wake-ups a second (IJobQueueStore.WaitForJobsAsync answers a cancel without
    /// throwing). A look the cancelled wait leaves behind still counts: jobs it finds wake the next wait.
    /// </summary>
    private async Task<bool> LookForExternalJobsAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _looksBegun);
        var look = ExternalJobsAppearedAsync(CancellationToken.None).AsTask();
        if (!look.IsCompleted)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), cancelled))
            {
                await Task.WhenAny(look, cancelled.Task).ConfigureAwait(false);
            }

            if (!look.IsCompleted)
            {
                _ = WakeIfFoundAsync(look, _signal);
                return false;
            }
        }

        return await look.ConfigureAwait(false);
    }

    /// <summary>The end of a look a cancelled wait left behind: jobs it found wake the next wait.</summary>
    private static async Task WakeIfFoundAsync(Task<bool> look, StoreSignal signal)
    {
        try
        {
            if (await look.ConfigureAwait(false))
            {
                signal.Fire();
            }
        }
#pragma warning disable CA1031 // Nobody awaits this look any more; the next dequeue meets the failure, if it lasts.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>True when another connection committed since the last check and a job is now pending.</summary>
    private ValueTask<bool> ExternalJobsAppearedAsync(CancellationToken cancellationToken) =>
        WriteAsync(0, static (store, session, _) =>
        {
            var version = session.DataVersion();
            if (version == store._lastDataVersion)
            {
                return false;
            }

            store._lastDataVersion = version;
            using var reader = session.Command(SqlStatement.HasPendingJobs).ExecuteReader();
            return reader.Read() && reader.GetInt64(0) != 0;
        }, cancellationToken);
}
