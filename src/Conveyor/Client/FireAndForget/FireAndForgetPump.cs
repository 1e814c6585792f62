using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.Client.FireAndForget;

/// <summary>
/// The one background loop that stores fire-and-forget calls: it takes whatever accumulated in the buffer (up to
/// <see cref="FireAndForgetOptions.MaxBatchSize"/>) and stores it with one <see cref="IJobClient.EnqueueManyAsync(IReadOnlyList{NewJob}, CancellationToken)"/>
/// round trip, so calls that arrive while a batch is being written share the next one; an idle pump adds no delay.
/// A batch not stored is tried again until it is (each round trip bounded by <see cref="FireAndForgetOptions.EnqueueTimeout"/>);
/// at host shutdown the buffer is stored within <see cref="FireAndForgetOptions.ShutdownTimeout"/>. Whatever is not
/// stored is logged and counted.
/// </summary>
internal sealed class FireAndForgetPump(
    FireAndForgetBuffer buffer,
    FireAndForgetDrops drops,
    NewJobFactory jobFactory,
    IJobClient client,
    IOptions<FireAndForgetOptions> options,
    TimeProvider timeProvider,
    ILogger<FireAndForgetPump> logger) : IHostedService, IDisposable
{
    private readonly FireAndForgetOptions _options = options.Value;
    private readonly JobOptions _defaultOptions = new() { Queue = options.Value.Queue };
    private readonly CancellationTokenSource _abort = new();

    /// <summary>
    /// The most a round trip of one job may be given: its bound doubles at each timeout up to this (or the configured
    /// timeout, if longer), so that a store slower than the timeout for every call still stores it in the end.
    /// </summary>
    private static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private Task? _run;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureRunning();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops taking calls and stores what is buffered, for at most <see cref="FireAndForgetOptions.ShutdownTimeout"/>
    /// (or until the host's own shutdown token fires); the rest is dropped as <c>shutdown</c>, logged and counted. Calls
    /// made after this are dropped the same way. Handlers still running in a worker server were given their grace period
    /// before this runs (the server drains in the host's stopping phase), so their fire-and-forget calls are stored too.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        buffer.Close();
        var run = EnsureRunning();
        if (!run.IsCompleted)
        {
            Log.FireAndForgetFlushing(logger, buffer.Reader.Count, _options.ShutdownTimeout.TotalSeconds);
            try
            {
                await run.WaitAsync(_options.ShutdownTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // The bound passed: the batch in flight and everything still buffered are dropped, logged and counted.
                await _abort.CancelAsync().ConfigureAwait(false);
                await run.ConfigureAwait(false);
            }
        }

        drops.PumpStopped();
    }

    public void Dispose() => _abort.Dispose();

    private Task EnsureRunning()
    {
        lock (_lock)
        {
            if (_run is null)
            {
                // The loop must not carry the ExecutionContext of whoever started the host (an ambient Activity, say).
                using (ExecutionContext.SuppressFlow())
                {
                    _run = Task.Run(RunAsync);
                }
            }

            return _run;
        }
    }

    private async Task RunAsync()
    {
        var reader = buffer.Reader;
        var batch = new List<FireAndForgetCall>(Math.Min(_options.MaxBatchSize, 1024));

        // WaitToReadAsync answers false once the buffer is closed and empty: the loop ends by draining, never midway.
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var call))
            {
                batch.Add(call);
            }

            if (_abort.IsCancellationRequested)
            {
                drops.Dropped(batch, FireAndForgetDropReason.Shutdown, exception: null);
            }
            else
            {
                try
                {
                    await StoreAsync(batch).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // A fault of ours must cost one batch, never the pump: every later call would be lost silently.
                    drops.Dropped(batch, FireAndForgetDropReason.Error, e);
                }
            }

            batch.Clear();
            drops.LogTallied();
        }
    }

    /// <summary>
    /// Stores one batch, trying again while the store is down or does not answer within the enqueue timeout, until it is
    /// stored, refused, or the host stops; never throws. Every attempt sends the same job ids, so a job an attempt that
    /// timed out or failed did store comes back as a duplicate id instead of being stored twice: the jobs are never left
    /// in doubt. Calls made meanwhile wait in the bounded buffer.
    /// </summary>
    private async Task StoreAsync(List<FireAndForgetCall> batch)
    {
        var jobs = BuildJobs(batch);
        if (jobs.Length > 0)
        {
            await StoreAsync(batch, jobs).ConfigureAwait(false);
        }
    }

    private async Task StoreAsync(List<FireAndForgetCall> batch, NewJob[] jobs)
    {
        var backoff = default(Backoff);
        var failedAttempts = 0;
        var attemptTimeout = _options.EnqueueTimeout;
        while (true)
        {
            Exception failure;
            using (var timeout = new CancellationTokenSource(attemptTimeout, timeProvider))
            using (var bound = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort.Token))
            {
                try
                {
                    // WaitAsync as well as the token: a store call that ignores its token must not hold the pump past the
                    // timeout.
                    var results = await client.EnqueueManyAsync(jobs, bound.Token).WaitAsync(bound.Token).ConfigureAwait(false);
                    LogStored(results, failedAttempts);
                    return;
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    break;
                }
                catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
                {
                    if (jobs.Length > 1)
                    {
                        // A batch the store cannot write within the bound (too big for a loaded store) would time out
                        // at every try and hold every later call behind it: halves go on their own.
                        Log.FireAndForgetSplitting(logger, jobs.Length, attemptTimeout.TotalSeconds);
                        await StoreInHalvesAsync(batch, jobs).ConfigureAwait(false);
                        return;
                    }

                    failure = new TimeoutException($"The store did not answer within {attemptTimeout} (Conveyor:FireAndForget:EnqueueTimeout {_options.EnqueueTimeout}, doubled at each timeout of one job).", e);
                    attemptTimeout = TimeSpan.FromTicks(Math.Min(attemptTimeout.Ticks * 2, Math.Max(MaxAttemptTimeout.Ticks, _options.EnqueueTimeout.Ticks)));
                }
                catch (JobStoreUnavailableException e)
                {
                    failure = e;
                }
                catch (Exception) when (jobs.Length > 1)
                {
                    // One job the store refuses (a Redis Cluster refuses a workflow job with its own id) refuses the
                    // round trip: the others of the batch are not to be dropped with it.
                    await StoreEachAloneAsync(batch, jobs).ConfigureAwait(false);
                    return;
                }
                catch (Exception e)
                {
                    drops.Dropped(batch, FireAndForgetDropReason.Error, e);
                    return;
                }
            }

            failedAttempts++;
            var delay = backoff.Next();
            if (backoff.IsWorthLogging)
            {
                Log.FireAndForgetRetrying(logger, failure, jobs.Length, buffer.Reader.Count);
            }

            try
            {
                await Task.Delay(delay, timeProvider, _abort.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        drops.Dropped(batch, FireAndForgetDropReason.Shutdown, exception: null);
    }

    private async Task StoreInHalvesAsync(List<FireAndForgetCall> batch, NewJob[] jobs)
    {
        var half = jobs.Length / 2;
        await StoreAsync(batch[..half], jobs[..half]).ConfigureAwait(false);
        if (_abort.IsCancellationRequested)
        {
            drops.Dropped(batch[half..], FireAndForgetDropReason.Shutdown, exception: null);
            return;
        }

        await StoreAsync(batch[half..], jobs[half..]).ConfigureAwait(false);
    }

    private void LogStored(IReadOnlyList<EnqueueResult> results, int failedAttempts)
    {
        if (failedAttempts == 0)
        {
            Log.FireAndForgetStored(logger, results.Count);
            return;
        }

        var there = 0;
        foreach (var result in results)
        {
            there += result.IsDuplicate ? 1 : 0;
        }

        Log.FireAndForgetStoredAfterRetries(logger, results.Count, failedAttempts + 1, there);
    }

    /// <summary>
    /// Stores each job of a batch the store refused as a whole in a batch of its own (tried again like any batch while
    /// the store is away); drops those refused alone.
    /// </summary>
    private async Task StoreEachAloneAsync(List<FireAndForgetCall> batch, NewJob[] jobs)
    {
        for (var i = 0; i < jobs.Length; i++)
        {
            List<FireAndForgetCall> alone = [batch[i]];
            if (_abort.IsCancellationRequested)
            {
                drops.Dropped(alone, FireAndForgetDropReason.Shutdown, exception: null);
                continue;
            }

            await StoreAsync(alone, [jobs[i]]).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The batch's jobs. A call whose job cannot be built (checked at the call, so this is a fault of ours) is dropped
    /// alone and taken out of <paramref name="batch"/>, so that what is later dropped or stored is counted once.
    /// </summary>
    private NewJob[] BuildJobs(List<FireAndForgetCall> batch)
    {
        var jobs = new List<NewJob>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                jobs.Add(Build(batch[i]));
            }
            catch (Exception e)
            {
                drops.Dropped([batch[i]], FireAndForgetDropReason.Error, e);
                batch.RemoveAt(i--);
            }
        }

        return [.. jobs];
    }

    private NewJob Build(in FireAndForgetCall call)
    {
        var options = call.Options is null ? _defaultOptions
            : call.Options.Queue is null ? call.Options with { Queue = _options.Queue }
            : call.Options;

        // Checked at the call against the same moment, so this builds exactly the job the caller asked for.
        return jobFactory.Build(call.JobType, call.Payload, options, call.CalledAt, call.TraceParent, call.JobId);
    }
}
