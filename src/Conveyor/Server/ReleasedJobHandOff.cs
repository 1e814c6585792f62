using System.Threading.Channels;
using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>
/// Starts the jobs this server's own acknowledgements release (a batch's callback, a continuation, a workflow step whose
/// last dependency finished) without a wake-up and a dequeue of their own: the acknowledgement leases them in its own
/// transaction (<see cref="IJobQueueStore.AcknowledgeAndTakeReleasedAsync"/>) and they go straight to the free worker
/// slots. A released job otherwise waits for the acknowledgement, then for the fetcher to be woken and for its
/// dequeue: a second transaction, and on SQLite a second turn at the single writer.
/// </summary>
/// <remarks>
/// Only while no concurrency limit, rate limit or fair queue is in force (those are applied by the fetcher) and the
/// server is not stopping. The request asks for as many jobs as there are free slots (at least one). The release may
/// also wake the fetcher (SQLite's signal does), which may take those slots for a dequeue of its own first (that dequeue
/// finds the handed-off jobs leased and gives the slots back): a job that finds no free slot waits for the next one,
/// held (its lease extended) as a job leased ahead is; if the server stops meanwhile it is handed back, at the head of
/// its queue and without counting an attempt. Acknowledgements that release nothing lease nothing, so plain jobs take
/// exactly the path they took before.
/// </remarks>
internal sealed class ReleasedJobHandOff(
    SemaphoreSlim freeSlots,
    HeldJobs held,
    ChannelWriter<RunningJob> buffer,
    IReadOnlyDictionary<string, int> queues,
    string serverId,
    TimeSpan leaseDuration,
    Func<bool> enabled,
    Action<JobAcknowledgement> handBack,
    CancellationToken stopping)
{
    // Heaviest queue first: the one a fetcher's first pass serves most.
    private readonly string[] _queues = [.. queues.OrderByDescending(static q => q.Value).ThenBy(static q => q.Key, StringComparer.Ordinal).Select(static q => q.Key)];

    // Slots asked for by acknowledgement calls in flight (the batcher has two writers), not offered to another call.
    private readonly Lock _askedLock = new();
    private int _asked;

    /// <summary>
    /// The dequeue to run with the next acknowledgement, or null when jobs must not be handed off now. Its slots stay
    /// asked for until <see cref="Answered"/>.
    /// </summary>
    public DequeueRequest? NextRequest()
    {
        if (_queues.Length == 0 || !enabled())
        {
            return null;
        }

        int limit;
        lock (_askedLock)
        {
            limit = Math.Max(1, freeSlots.CurrentCount - _asked);
            _asked += limit;
        }

        var quotas = new QueueQuota[_queues.Length];
        for (var i = 0; i < quotas.Length; i++)
        {
            quotas[i] = new QueueQuota(_queues[i], limit);
        }

        return new DequeueRequest { Queues = quotas, Limit = limit, ServerId = serverId, LeaseDuration = leaseDuration };
    }

    /// <summary>The call made with <paramref name="request"/> returned or failed, and what it leased was taken: its slots may be asked for again.</summary>
    public void Answered(DequeueRequest request)
    {
        lock (_askedLock)
        {
            _asked -= request.Limit;
        }
    }

    /// <summary>
    /// Holds the leased jobs (their leases are extended from now on) and gives each a free slot, now or when one frees;
    /// returns the acknowledgements that hand back the jobs that must not start here (the server is stopping), or null.
    /// </summary>
    public List<JobAcknowledgement>? Take(IReadOnlyList<LeasedJob> jobs)
    {
        List<JobAcknowledgement>? handBacks = null;
        foreach (var job in jobs)
        {
            var run = new RunningJob(job);
            held.Add(run);
            if (!enabled())
            {
                (handBacks ??= []).Add(HandBack(run));
            }
            else if (!freeSlots.Wait(0))
            {
                _ = StartWhenASlotFreesAsync(run);
            }
            else if (!buffer.TryWrite(run))
            {
                freeSlots.Release();
                (handBacks ??= []).Add(HandBack(run));
            }
        }

        return handBacks;
    }

    private async Task StartWhenASlotFreesAsync(RunningJob run)
    {
        try
        {
            await freeSlots.WaitAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            handBack(HandBack(run));
            return;
        }

        if (!buffer.TryWrite(run))
        {
            freeSlots.Release();
            handBack(HandBack(run));
        }
    }

    private static JobAcknowledgement HandBack(RunningJob run) =>
        new() { JobId = run.Job.Id, LeaseToken = run.Job.LeaseToken, Outcome = AckOutcome.Released };
}
