using System.Threading.Channels;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Writes acknowledgements in batches: whatever has accumulated while the previous batch was being written goes
/// in the next round trip, so a busy server pays one store call for many jobs and an idle one adds no delay.
/// A job stays in the held set (and its lease keeps being extended) until its acknowledgement is stored.
/// While concurrency limits are in force (<paramref name="signalFreedSlots"/> answers true), every stored batch wakes the fetcher:
/// a job that ended freed a slot that a held-back job may be waiting for.
/// With a <paramref name="handOff"/>, each batch also leases the jobs it releases (a batch's callback, a workflow's next
/// step) in the same store call and hands them to free worker slots (<see cref="ReleasedJobHandOff"/>).
/// </summary>
/// <remarks>
/// An acknowledgement added <c>besideCallInFlight</c> does not wait for the call in flight: a second writer takes it, with
/// whatever else is waiting, while the first call runs. The server asks for it for the end of a batch member (a workflow's
/// step too) when no fetched job waits to start there: it may be the end that finishes the batch and starts what waits
/// for it. Everything else keeps one call at a time and whole batches: two writers for every acknowledgement cost a busy
/// PostgreSQL or Redis store a quarter of its drain rate, and a drain of one batch's members on PostgreSQL as much (its
/// two calls meet on the batch's record, which the store orders as it orders the calls of two servers; bench/README
/// "Workflows").
/// </remarks>
internal sealed class AcknowledgementBatcher(
    IJobStore store,
    HeldJobs held,
    JobReadySignal readySignal,
    int batchSize,
    TimeProvider timeProvider,
    ILogger logger,
    Func<bool>? signalFreedSlots = null,
    ReleasedJobHandOff? handOff = null,
    PromotionAlarm? alarm = null,
    TimeSpan alarmHorizon = default,
    LeaseReconciler? leaseCalls = null,
    ConveyorMetrics? metrics = null)
{
    private readonly Channel<JobAcknowledgement> _channel = Channel.CreateUnbounded<JobAcknowledgement>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    // Set by an acknowledgement added beside the call in flight: wakes the second writer (a token, dropped while one is
    // already waiting).
    private readonly Channel<bool> _besideCallInFlight = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = false });

    // Acknowledgements the store refused even alone, retried alone by one loop beside the batches (see WriteAsync).
    // The loop's running flag is set and cleared under the list's lock: a refusal that arrives as the loop finds the list
    // empty starts a new loop rather than joining one that is returning.
    private readonly List<JobAcknowledgement> _refused = [];
    private bool _retryLoopRunning;
    private Task _retryingRefused = Task.CompletedTask;

    /// <summary>Queues an acknowledgement; <paramref name="besideCallInFlight"/> writes it without waiting for the call in flight (see the remarks).</summary>
    public void Add(JobAcknowledgement acknowledgement, bool besideCallInFlight = false)
    {
        _channel.Writer.TryWrite(acknowledgement);
        if (besideCallInFlight)
        {
            _besideCallInFlight.Writer.TryWrite(true);
        }
    }

    /// <summary>No more acknowledgements will come; <see cref="RunAsync"/> ends once it has written what it holds.</summary>
    public void Complete()
    {
        _channel.Writer.TryComplete();
        _besideCallInFlight.Writer.TryComplete();
    }

    /// <summary>Writes batches until completed and drained. <paramref name="abandonToken"/> gives up on a store that stays down.</summary>
    public async Task RunAsync(CancellationToken abandonToken)
    {
        var besideCallInFlight = _besideCallInFlight.Reader;
        await Task.WhenAll(
            WriteBatchesAsync(_channel.Reader.WaitToReadAsync, abandonToken),
            WriteBatchesAsync(async token => await besideCallInFlight.WaitToReadAsync(token).ConfigureAwait(false) && besideCallInFlight.TryRead(out _), abandonToken))
            .ConfigureAwait(false);

        // What the store kept refusing is waited for until it is stored or the server gives up on it (its lease then
        // lapses, and the recoverer runs the job again).
        Task retrying;
        lock (_refused)
        {
            retrying = _retryingRefused;
        }

        await retrying.ConfigureAwait(false);
    }

    /// <summary>One writer: each time <paramref name="waitForWork"/> answers true, writes what is waiting (if the other writer has not taken it).</summary>
    private async Task WriteBatchesAsync(Func<CancellationToken, ValueTask<bool>> waitForWork, CancellationToken abandonToken)
    {
        var batch = new List<JobAcknowledgement>(batchSize);
        var reader = _channel.Reader;

        // Handed-off jobs that must not start here (the server began stopping), handed back with the next batch.
        List<JobAcknowledgement>? handBack = null;
        while (handBack is not null || await waitForWork(abandonToken).ConfigureAwait(false))
        {
            if (handBack is not null)
            {
                batch.AddRange(handBack);
                handBack = null;
            }

            while (batch.Count < batchSize && reader.TryRead(out var ack))
            {
                batch.Add(ack);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            handBack = await WriteAsync(batch, takeReleased: true, abandonToken).ConfigureAwait(false);
            Settled(batch);
            batch.Clear();
        }
    }

    /// <summary>
    /// Writes a batch, trying again after a backoff while the store is unavailable; hands the jobs its acknowledgements
    /// released and leased for this server to free slots (<see cref="ReleasedJobHandOff"/>) and returns the
    /// acknowledgements that hand back those that must not start here, or null. A store that refuses the batch (any error
    /// other than <see cref="JobStoreUnavailableException"/>) is given each acknowledgement alone, so that one it cannot
    /// store (a cascade beyond the store's limits, a defect) does not hold back the others, here or in later
    /// batches: one it refuses alone too leaves <paramref name="batch"/> and is retried alone in the background, its job
    /// held (its lease extended) meanwhile.
    /// </summary>
    private async Task<List<JobAcknowledgement>?> WriteAsync(List<JobAcknowledgement> batch, bool takeReleased, CancellationToken abandonToken)
    {
        var backoff = new Backoff();
        while (true)
        {
            try
            {
                if (takeReleased && handOff?.NextRequest() is { } next)
                {
                    // A call that fails may have leased released jobs all the same (its answer lost): the reconciler
                    // looks for them once it has ended, the jobs it returned held. While it looks (only ever after a
                    // failure), the call waits at its gate, briefly.
                    var inFlight = false;
                    var failed = true;
                    try
                    {
                        if (leaseCalls?.TryCallStarting() == false)
                        {
                            await leaseCalls.CallStartingAsync(abandonToken).ConfigureAwait(false);
                        }

                        inFlight = true;
                        var leased = (await store.AcknowledgeAndTakeReleasedAsync(batch, next, abandonToken).ConfigureAwait(false)).Leased;
                        var handBacks = leased.Count > 0 ? handOff.Take(leased) : null;
                        failed = false;
                        return handBacks;
                    }
                    finally
                    {
                        handOff.Answered(next);
                        if (inFlight)
                        {
                            leaseCalls?.CallEnded(failed);
                        }
                    }
                }

                await store.AcknowledgeManyAsync(batch, abandonToken).ConfigureAwait(false);
                return null;
            }
            catch (Exception e) when (e is not JobStoreUnavailableException && !abandonToken.IsCancellationRequested)
            {
                if (batch.Count == 1)
                {
                    Log.AcknowledgementRefused(logger, e, batch[0].JobId, store.Name);
                    Refused(batch[0], abandonToken);
                    batch.Clear();
                    return null;
                }

                Log.AcknowledgementBatchRefused(logger, e, batch.Count, store.Name);
                foreach (var ack in batch.ToList())
                {
                    List<JobAcknowledgement> alone = [ack];
                    await WriteAsync(alone, takeReleased: false, abandonToken).ConfigureAwait(false);
                    if (alone.Count == 0)
                    {
                        batch.Remove(ack);
                    }
                }

                return null;
            }
            catch (Exception e) when (!abandonToken.IsCancellationRequested)
            {
                // Keep the batch and try again: the leases stay extended meanwhile, and if they expire the
                // recoverer reruns the jobs (at least once), so nothing is lost either way.
                if (e is JobStoreUnavailableException)
                {
                    metrics?.StoreUnavailable(StoreOperations.Acknowledge);
                }

                var delay = backoff.Next();
                if (backoff.IsWorthLogging)
                {
                    Log.StoreUnavailable(logger, e, store.Name, "acknowledge", (int)delay.TotalMilliseconds);
                }

                await Task.Delay(delay, timeProvider, abandonToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Adds an acknowledgement the store refused alone to those retried in the background, starting the loop if it is not running.</summary>
    private void Refused(JobAcknowledgement ack, CancellationToken abandonToken)
    {
        lock (_refused)
        {
            _refused.Add(ack);
            if (!_retryLoopRunning)
            {
                _retryLoopRunning = true;
                _retryingRefused = Task.Run(() => RetryRefusedAsync(abandonToken), CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// One loop for every refused acknowledgement, each written alone once per round, rounds apart by the store backoff:
    /// at most one extra store call at a time, however many the store refuses. Ends when none is left or the server
    /// gives up.
    /// </summary>
    private async Task RetryRefusedAsync(CancellationToken abandonToken)
    {
        // The refusal that started the loop is the first failure, logged where it happened: counting it here keeps
        // the rounds that follow quiet until the next line is due, about 10 s later. The first retry therefore waits
        // 100-200 ms rather than 50-100: one retry of a refused acknowledgement is not worth a faster first try.
        var backoff = new Backoff();
        backoff.Next();
        while (true)
        {
            var delay = backoff.Next();
            JobAcknowledgement[] round;
            lock (_refused)
            {
                if (_refused.Count == 0)
                {
                    _retryLoopRunning = false;
                    return;
                }

                round = [.. _refused];
            }

            try
            {
                await Task.Delay(delay, timeProvider, abandonToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (var ack in round)
            {
                try
                {
                    await store.AcknowledgeManyAsync([ack], abandonToken).ConfigureAwait(false);
                    lock (_refused)
                    {
                        _refused.Remove(ack);
                    }

                    Settled([ack]);
                }
                catch (Exception) when (abandonToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    if (backoff.IsWorthLogging)
                    {
                        Log.AcknowledgementRefused(logger, e, ack.JobId, store.Name);
                    }
                }
            }
        }
    }

    /// <summary>The acknowledgements are stored: their jobs are no longer held, and what they freed or released wakes the fetcher.</summary>
    private void Settled(List<JobAcknowledgement> acknowledgements)
    {
        var released = false;
        var horizon = alarm is null ? default : timeProvider.GetUtcNow() + alarmHorizon;
        foreach (var ack in acknowledgements)
        {
            if (held.Remove(ack.JobId, ack.LeaseToken, out var run))
            {
                run.EndSettled();
            }

            released |= ack.Outcome == AckOutcome.Released;

            // A snooze or a retry due before the promoter's next tick is promoted at its time, now that it is stored: a
            // rate limit's turn rung when the job was refused may have passed while every worker was busy.
            if (alarm is not null && (ack.Outcome == AckOutcome.Snoozed ? ack.SnoozeUntil : ack.Outcome == AckOutcome.Retry ? ack.RetryAt : null) is { } due && due < horizon)
            {
                alarm.RingAt(due);
            }
        }

        if (released || signalFreedSlots?.Invoke() == true)
        {
            readySignal.Set();
        }
    }
}
