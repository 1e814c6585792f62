using System.Threading.Channels;
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
internal sealed class AcknowledgementBatcher(
    IJobStore store,
    HeldJobs held,
    JobReadySignal readySignal,
    int batchSize,
    TimeProvider timeProvider,
    ILogger logger,
    Func<bool>? signalFreedSlots = null,
    ReleasedJobHandOff? handOff = null)
{
    private readonly Channel<JobAcknowledgement> _channel = Channel.CreateUnbounded<JobAcknowledgement>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    public void Add(JobAcknowledgement acknowledgement) => _channel.Writer.TryWrite(acknowledgement);

    /// <summary>No more acknowledgements will come; <see cref="RunAsync"/> ends once it has written what it holds.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Writes batches until completed and drained. <paramref name="abandonToken"/> gives up on a store that stays down.</summary>
    public async Task RunAsync(CancellationToken abandonToken)
    {
        var batch = new List<JobAcknowledgement>(batchSize);
        var reader = _channel.Reader;
        var backoff = new Backoff();

        // Handed-off jobs that must not start here (the server began stopping), handed back with the next batch.
        List<JobAcknowledgement>? handBack = null;
        while (handBack is not null || await reader.WaitToReadAsync(abandonToken).ConfigureAwait(false))
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

            IReadOnlyList<LeasedJob> handedOff = [];
            while (true)
            {
                try
                {
                    if (handOff?.NextRequest() is { } next)
                    {
                        handedOff = (await store.AcknowledgeAndTakeReleasedAsync(batch, next, abandonToken).ConfigureAwait(false)).Leased;
                    }
                    else
                    {
                        await store.AcknowledgeManyAsync(batch, abandonToken).ConfigureAwait(false);
                    }

                    backoff.Reset();
                    break;
                }
                catch (Exception e) when (!abandonToken.IsCancellationRequested)
                {
                    // Keep the batch and try again: the leases stay extended meanwhile, and if they expire the
                    // recoverer reruns the jobs (at least once), so nothing is lost either way.
                    var delay = backoff.Next();
                    if (backoff.IsWorthLogging)
                    {
                        Log.StoreUnavailable(logger, e, store.Name, "acknowledge", (int)delay.TotalMilliseconds);
                    }
                    await Task.Delay(delay, timeProvider, abandonToken).ConfigureAwait(false);
                }
            }

            var released = false;
            foreach (var ack in batch)
            {
                held.Remove(ack.JobId);
                released |= ack.Outcome == AckOutcome.Released;
            }

            if (released || signalFreedSlots?.Invoke() == true)
            {
                readySignal.Set();
            }

            if (handedOff.Count > 0)
            {
                handBack = handOff!.Take(handedOff);
            }

            batch.Clear();
        }
    }
}
