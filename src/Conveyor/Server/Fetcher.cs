using System.Threading.Channels;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Leases as many jobs as there are free slots in one round trip and puts them in the bounded buffer the workers
/// read. There are <see cref="JobServerOptions.Concurrency"/> slots plus <see cref="JobServerOptions.Prefetch"/>
/// while handlers are short (<see cref="HandlerPace"/>: on average, and the running ones so far), so that the next
/// dequeue is already under way while handlers run; while they are long, the fetcher keeps the prefetch slots to itself. When nothing is ready it waits for a
/// signal (this process's enqueues, or the store's notification from other processes) and polls only as the fallback.
/// </summary>
internal sealed class Fetcher(
    IJobStore store,
    WeightedQueueSelector selector,
    SemaphoreSlim freeSlots,
    HeldJobs held,
    ChannelWriter<RunningJob> buffer,
    JobReadySignal readySignal,
    HandlerPace pace,
    string serverId,
    JobServerOptions options,
    TimeProvider timeProvider,
    ILogger logger,
    Limits.ServedLimits? limits = null,
    IReadOnlyList<string>? fairQueues = null,
    LeaseReconciler? leaseCalls = null,
    ConveyorMetrics? metrics = null)
{
    // Empty unless fair queues are configured: then each of them carries the tenant its last dequeue ended with.
    private readonly FairQueue[] _fairQueues = fairQueues?.Select(static q => new FairQueue(q, "")).ToArray() ?? [];

    private readonly int _maxBatch = Math.Min(options.Concurrency + options.EffectivePrefetch, 1000);

    // Prefetch slots taken out of circulation while handlers are long.
    private int _reserved;

    // The batches whose rate permits are being asked for, written to the buffer in dequeue order once answered.
    private Task _gatedWrites = Task.CompletedTask;

    // Between tries of the paced queues' dequeue while it fails and the other queues' answers.
    private Backoff _pacedBackoff;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await freeSlots.WaitAsync(stoppingToken).ConfigureAwait(false);
                var slots = 1;
                while (slots < _maxBatch && freeSlots.Wait(0))
                {
                    slots++;
                }

                slots = Reserve(slots);
                if (slots == 0)
                {
                    continue;
                }

                // A dequeue that fails may have leased jobs all the same (its answer lost): the reconciler looks for them
                // once the call has ended, and never while one is in flight, whose jobs are not held yet. While it looks
                // (only ever after a failure), a dequeue waits at its gate, briefly; its request is made after the wait,
                // so that it reflects the queues and turns as they are then.
                if (leaseCalls?.TryCallStarting() == false)
                {
                    try
                    {
                        await leaseCalls.CallStartingAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        freeSlots.Release(slots);
                        throw;
                    }
                }

                var request = Request(selector.NextQuotas(slots), slots);
                var pacing = limits?.Rate?.Pacing;
                var split = pacing?.Split(request.Queues, timeProvider.GetUtcNow());
                IReadOnlyList<LeasedJob> jobs;
                bool? drained = null;
                var failedInPart = false;

                try
                {
                    readySignal.DequeueStarting();
                    if (split is var (open, paced))
                    {
                        // Paced queues (QueuePacing): their share only, in a dequeue of their own, so that no second pass
                        // takes more of them; the other queues the rest of the slots.
                        var pacedRequest = Request(paced, Math.Min(paced.Sum(static q => q.Limit), slots));
                        request = Request(open, slots - pacedRequest.Limit);
                        (jobs, drained, failedInPart) = await DequeuePacedAsync(pacedRequest, request, pacing!, stoppingToken).ConfigureAwait(false);
                    }
                    else
                    {
                        jobs = await store.DequeueAsync(request, stoppingToken).ConfigureAwait(false);
                        failedInPart = jobs is PartialDequeue;
                    }

                    // Some queues answered (a partial dequeue included): the store is there. The store reports the queues
                    // it could not reach; the failed calls may have leased all the same, which the reconciler looks for.
                    backoff.Reset();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    leaseCalls?.CallEnded(failed: true);
                    freeSlots.Release(slots);
                    CountIfUnavailable(e, StoreOperations.Dequeue);
                    var delay = backoff.Next();
                    if (backoff.IsWorthLogging)
                    {
                        Log.StoreUnavailable(logger, e, store.Name, "dequeue", (int)delay.TotalMilliseconds);
                    }

                    // An enqueue, promotion or recovery that succeeded in this process proves the store is back: no
                    // reason to sleep out the rest of the backoff.
                    await readySignal.WaitAsync(delay, timeProvider, stoppingToken).ConfigureAwait(false);
                    continue;
                }
                catch
                {
                    leaseCalls?.CallEnded(failed: true);
                    freeSlots.Release(slots);
                    throw;
                }

                RunningJob[] runs;
                try
                {
                    if (jobs.Count < slots)
                    {
                        freeSlots.Release(slots - jobs.Count);
                    }

                    if (_fairQueues.Length > 0)
                    {
                        AdvanceTurns(jobs);
                    }

                    runs = new RunningJob[jobs.Count];
                    for (var i = 0; i < runs.Length; i++)
                    {
                        runs[i] = new RunningJob(jobs[i]);
                        held.Add(runs[i]);
                    }
                }
                finally
                {
                    leaseCalls?.CallEnded(failedInPart);
                }

                // Rate limits: one store call for the batch's permits; a refused job is snoozed by its worker. The call
                // is not awaited here: the next dequeue goes out while it runs, so a limit that is not hit costs the
                // drain no round trip of its own. The batch reaches the buffer once its permits are known.
                if (runs.Length > 0 && limits?.Rate is { } rateLimits)
                {
                    _gatedWrites = GateThenWriteAsync(rateLimits, runs, _gatedWrites, stoppingToken);
                }
                else
                {
                    foreach (var run in runs)
                    {
                        buffer.TryWrite(run);
                    }
                }

                if (drained ?? (jobs.Count == 0 || (jobs.Count < slots && DrainedServedQueues(request))))
                {
                    await WaitForJobsAsync(pacing?.NextTurn(timeProvider.GetUtcNow()), stoppingToken).ConfigureAwait(false);
                }
            }
        }
#pragma warning disable CA1031 // The stop decides: a call it broke off may fail in its own way (a broken connection), not only as cancelled.
        catch (Exception) when (stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            // The rest of the shutdown (jobs not started handed back, running ones awaited) must still run; what such a
            // call may have leased, the shutdown's listing of this server's leases hands back.
        }

        // Every leased job is in the buffer when the fetcher ends, so a stopping server hands back the ones not started.
        await _gatedWrites.ConfigureAwait(false);
    }

    private DequeueRequest Request(IReadOnlyList<QueueQuota> quotas, int limit) => new()
    {
        Queues = quotas,
        Limit = limit,
        ServerId = serverId,
        LeaseDuration = options.LeaseDuration,
        // Empty unless a limit in force names a served queue: then every dequeue carries the limits, and the store
        // applies them in the same step.
        ConcurrencyLimits = limits?.Concurrency ?? [],
        FairQueues = _fairQueues.Length == 0 ? [] : [.. _fairQueues],
    };

    /// <summary>
    /// The paced queues' share whose turn has come, then the other queues with the rest of the slots (a request with no
    /// queue or no slot is not sent); and whether the fetcher may wait for a signal or the next turn: not when a paced
    /// queue ran short (it is leased as any queue from now on) or the other queues had no slot or did not run dry. Once
    /// the paced jobs are leased they are returned even if the second dequeue fails (logged, and <c>Failed</c>: it may have
    /// leased jobs all the same), so that they are held, run or handed back: the next dequeue meets the failure again. Either
    /// dequeue returning a <see cref="PartialDequeue"/> is <c>Failed</c> too, and so is a paced dequeue that failed as
    /// unavailable while the other queues' dequeue answered (on a Redis Cluster the paced queues may all be on a hung
    /// primary): the other queues are not held up by it.
    /// </summary>
    private async Task<(IReadOnlyList<LeasedJob> Jobs, bool Drained, bool Failed)> DequeuePacedAsync(DequeueRequest paced, DequeueRequest open, Limits.QueuePacing pacing, CancellationToken stoppingToken)
    {
        var jobs = new List<LeasedJob>();
        var ranShort = false;
        var failedInPart = false;
        if (paced.Queues.Count > 0 && paced.Limit > 0)
        {
            IReadOnlyList<LeasedJob> pacedJobs;
            try
            {
                pacedJobs = await store.DequeueAsync(paced, stoppingToken).ConfigureAwait(false);
            }
            catch (JobStoreUnavailableException e) when (open.Queues.Count > 0 && open.Limit > 0 && !stoppingToken.IsCancellationRequested)
            {
                // On a Redis Cluster the paced queues may all be on a primary that hangs while the others answer: the
                // other queues are still asked, and only when they fail too is the dequeue an outage. The paced queues'
                // turn waits out a back-off, so that they are not asked again at once; the failed call may have leased
                // all the same, which the reconciler looks for.
                metrics?.StoreUnavailable(StoreOperations.Dequeue);
                var delay = _pacedBackoff.Next();
                if (_pacedBackoff.IsWorthLogging)
                {
                    Log.StoreUnavailable(logger, e, store.Name, "dequeue", (int)delay.TotalMilliseconds);
                }

                var retryAt = timeProvider.GetUtcNow() + delay;
                foreach (var quota in paced.Queues)
                {
                    pacing.Failed(quota.Queue, retryAt);
                }

                return await DequeueOpenAsync(jobs, ranShort: false, failedInPart: true).ConfigureAwait(false);
            }

            _pacedBackoff.Reset();
            failedInPart = pacedJobs is PartialDequeue;
            jobs.AddRange(pacedJobs);
            // Short of the request's limit, a queue short of its own share had no more jobs; at the limit, the store
            // may simply have filled it from the queues before.
            ranShort = jobs.Count < paced.Limit;
            var now = timeProvider.GetUtcNow();
            foreach (var quota in paced.Queues)
            {
                var leased = jobs.Count(j => string.Equals(j.Queue, quota.Queue, StringComparison.Ordinal));
                pacing.Leased(quota.Queue, leased, ranShort && leased < quota.Limit, now);
            }
        }

        if (open.Queues.Count == 0)
        {
            return (jobs, !ranShort, failedInPart);
        }

        if (open.Limit == 0)
        {
            return (jobs, false, failedInPart);
        }

        return await DequeueOpenAsync(jobs, ranShort, failedInPart).ConfigureAwait(false);

        // The other queues; when this fails too and no paced job was leased, the whole dequeue failed (the caller backs off).
        async Task<(IReadOnlyList<LeasedJob> Jobs, bool Drained, bool Failed)> DequeueOpenAsync(List<LeasedJob> jobs, bool ranShort, bool failedInPart)
        {
            try
            {
                var taken = await store.DequeueAsync(open, stoppingToken).ConfigureAwait(false);
                jobs.AddRange(taken);
                // As for a dequeue of every queue: nothing taken, or a plain dequeue short of its limit.
                return (jobs, !ranShort && (taken.Count == 0 || (taken.Count < open.Limit && DrainedServedQueues(open))), failedInPart || taken is PartialDequeue);
            }
            catch (Exception e) when (jobs.Count > 0)
            {
                if (!stoppingToken.IsCancellationRequested)
                {
                    CountIfUnavailable(e, StoreOperations.Dequeue);
                    Log.StoreUnavailable(logger, e, store.Name, "dequeue", 0);
                }

                return (jobs, false, true);
            }
        }
    }

    /// <summary>
    /// Takes the batch's rate permits, then writes it to the buffer after the batch before it. Never throws: a batch whose
    /// permits could not be asked for (store down, server stopping) waits as <see cref="Limits.RateLimitGate.UnknownWait"/>
    /// says instead of starting unchecked.
    /// </summary>
    private async Task GateThenWriteAsync(Limits.RateLimitGate gate, RunningJob[] runs, Task previous, CancellationToken stoppingToken)
    {
        try
        {
            await gate.ApplyAsync(runs, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                CountIfUnavailable(e, StoreOperations.RatePermits);
                Log.StoreUnavailable(logger, e, store.Name, "rate permits", (int)Limits.RateLimitGate.UnknownWait.TotalMilliseconds);
            }

            var until = timeProvider.GetUtcNow() + Limits.RateLimitGate.UnknownWait;
            foreach (var run in runs)
            {
                run.HoldForRateLimit(until, "A rate limit could not be checked; trying again shortly.", release: false);
            }
        }

        await previous.ConfigureAwait(false);
        foreach (var run in runs)
        {
            buffer.TryWrite(run);
        }
    }

    /// <summary>
    /// Whether a dequeue that took fewer jobs than it asked for left nothing behind in the served queues, so that the
    /// fetcher waits for the next signal instead of asking again at once. A plain dequeue is work conserving
    /// (<see cref="DequeueRequest"/>): it leaves a slot free only when no served queue had a job it could take, and a
    /// job made ready after it began signals the wait (the store's wait keeps a signal that came during the dequeue, as
    /// after a dequeue that found nothing). The dequeue again at once found nothing, and it ran beside the acknowledgement of
    /// the jobs just taken: the store's time that a continuation's or a callback's release waits for. A dequeue under
    /// concurrency limits or with fair queues may stop short with jobs still pending (a scan depth, a number of rounds),
    /// so it asks again. What a plain dequeue passes over waits for the next signal or the poll, as after a dequeue
    /// that found nothing: on PostgreSQL a pending job another transaction holds locked at that moment (SKIP LOCKED; a
    /// continuation being linked to it), on Redis an id whose record is corrupt or gone.
    /// </summary>
    private static bool DrainedServedQueues(DequeueRequest request) =>
        request.ConcurrencyLimits.Count == 0 && request.FairQueues.Count == 0;

    /// <summary>The next turn of each fair queue starts after the tenant of the last job taken from it (the store returns them in turn order).</summary>
    private void AdvanceTurns(IReadOnlyList<LeasedJob> jobs)
    {
        for (var i = 0; i < _fairQueues.Length; i++)
        {
            for (var j = jobs.Count - 1; j >= 0; j--)
            {
                if (string.Equals(jobs[j].Queue, _fairQueues[i].Queue, StringComparison.Ordinal))
                {
                    _fairQueues[i] = _fairQueues[i] with { LastTenant = jobs[j].Tenant };
                    break;
                }
            }
        }
    }

    /// <summary>Moves slots into or out of the reserve as the handlers' pace requires; returns the slots left to fill.</summary>
    private int Reserve(int slots)
    {
        var wanted = options.EffectivePrefetch - pace.LeaseAheadSlots(options.EffectivePrefetch);
        if (_reserved < wanted)
        {
            var taken = Math.Min(wanted - _reserved, slots);
            _reserved += taken;
            return slots - taken;
        }

        if (_reserved > wanted)
        {
            freeSlots.Release(_reserved - wanted);
            _reserved = wanted;
        }

        return slots;
    }

    /// <summary>Waits for a signal or the poll interval, and no later than <paramref name="nextTurn"/> (a paced queue's turn).</summary>
    private async Task WaitForJobsAsync(DateTimeOffset? nextTurn, CancellationToken stoppingToken)
    {
        var wait = options.PollInterval;
        if (nextTurn is { } turn)
        {
            var untilTurn = turn - timeProvider.GetUtcNow();
            wait = untilTurn <= TimeSpan.Zero ? TimeSpan.Zero : untilTurn < wait ? untilTurn : wait;
        }

        if (wait == TimeSpan.Zero)
        {
            return;
        }

        using var waitCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var local = readySignal.WaitAsync(wait, timeProvider, waitCancellation.Token);
        var remote = WaitForStoreAsync(wait, waitCancellation.Token);
        await Task.WhenAny(local, remote).ConfigureAwait(false);
        await waitCancellation.CancelAsync().ConfigureAwait(false);

        // The loser of the race was cancelled, which neither wait throws for, or the store's wait failed (or, in a store
        // of the user's, threw for its cancel): the next dequeue will tell. Observed here, not rethrown, so that it is not
        // reported as unobserved later.
        await Task.WhenAll(local, remote).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ = remote.Exception;
    }

    // A store that throws at the call rather than in the task it returns fails its wait like any other: the next dequeue
    // tells, instead of the exception ending the fetcher's loop. Not an async wrapper, which would throw the loser's
    // cancellation once more.
    private Task WaitForStoreAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            return store.WaitForJobsAsync(wait, cancellationToken).AsTask();
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    // Only unavailability is counted: any other failure is not the store refusing calls, and its log line says so.
    private void CountIfUnavailable(Exception e, string operation)
    {
        if (e is JobStoreUnavailableException)
        {
            metrics?.StoreUnavailable(operation);
        }
    }
}
