using System.Threading.Channels;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Leases as many jobs as there are free worker slots in one round trip and puts them in the bounded buffer the
/// workers read. When nothing is ready it waits for a signal (this process's enqueues, or the store's
/// notification from other processes) and polls only as the fallback.
/// </summary>
internal sealed class Fetcher(
    IJobStore store,
    WeightedQueueSelector selector,
    SemaphoreSlim freeSlots,
    HeldJobs held,
    ChannelWriter<RunningJob> buffer,
    JobReadySignal readySignal,
    string serverId,
    JobServerOptions options,
    TimeProvider timeProvider,
    ILogger logger)
{
    private readonly int _maxBatch = Math.Min(options.Concurrency, 1000);

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

                IReadOnlyList<LeasedJob> jobs;
                try
                {
                    jobs = await store.DequeueAsync(
                        new DequeueRequest
                        {
                            Queues = selector.NextQuotas(slots),
                            Limit = slots,
                            ServerId = serverId,
                            LeaseDuration = options.LeaseDuration,
                        },
                        stoppingToken).ConfigureAwait(false);
                    backoff.Reset();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    freeSlots.Release(slots);
                    var delay = backoff.Next();
                    Log.StoreUnavailable(logger, e, store.Name, "dequeue", (int)delay.TotalMilliseconds);
                    await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(false);
                    continue;
                }
                catch
                {
                    freeSlots.Release(slots);
                    throw;
                }

                if (jobs.Count < slots)
                {
                    freeSlots.Release(slots - jobs.Count);
                }

                foreach (var job in jobs)
                {
                    var run = new RunningJob(job);
                    held.Add(run);
                    buffer.TryWrite(run);
                }

                if (jobs.Count == 0)
                {
                    await WaitForJobsAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WaitForJobsAsync(CancellationToken stoppingToken)
    {
        using var waitCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var local = readySignal.WaitAsync(options.PollInterval, timeProvider, waitCancellation.Token);
        var remote = store.WaitForJobsAsync(options.PollInterval, waitCancellation.Token).AsTask();
        await Task.WhenAny(local, remote).ConfigureAwait(false);
        await waitCancellation.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(local, remote).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The loser of the race was cancelled, or the store's wait failed: the next dequeue will tell.
        }
    }
}
