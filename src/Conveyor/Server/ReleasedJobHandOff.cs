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
/// server is not stopping. The request asks for as many jobs as there are free slots (at least one); a job that finds
/// no free slot once leased (the fetcher took them meanwhile) is handed back at once, at the head of its queue and
/// without counting an attempt, so nothing waits behind a busy server. Acknowledgements that release nothing lease
/// nothing, so plain jobs take exactly the path they took before.
/// </remarks>
internal sealed class ReleasedJobHandOff(
    SemaphoreSlim freeSlots,
    HeldJobs held,
    ChannelWriter<RunningJob> buffer,
    IReadOnlyDictionary<string, int> queues,
    string serverId,
    TimeSpan leaseDuration,
    Func<bool> enabled)
{
    // Heaviest queue first: the one a fetcher's first pass serves most.
    private readonly string[] _queues = [.. queues.OrderByDescending(static q => q.Value).ThenBy(static q => q.Key, StringComparer.Ordinal).Select(static q => q.Key)];

    /// <summary>The dequeue to run with the next acknowledgement, or null when jobs must not be handed off now.</summary>
    public DequeueRequest? NextRequest()
    {
        if (_queues.Length == 0 || !enabled())
        {
            return null;
        }

        var limit = Math.Max(1, freeSlots.CurrentCount);
        var quotas = new QueueQuota[_queues.Length];
        for (var i = 0; i < quotas.Length; i++)
        {
            quotas[i] = new QueueQuota(_queues[i], limit);
        }

        return new DequeueRequest { Queues = quotas, Limit = limit, ServerId = serverId, LeaseDuration = leaseDuration };
    }

    /// <summary>
    /// Holds the leased jobs (their leases are extended from now on) and gives each a free slot; returns the
    /// acknowledgements that hand back those that found none, or null when every job was taken.
    /// </summary>
    public List<JobAcknowledgement>? Take(IReadOnlyList<LeasedJob> jobs)
    {
        List<JobAcknowledgement>? handBack = null;
        foreach (var job in jobs)
        {
            var run = new RunningJob(job);
            held.Add(run);
            if (enabled() && freeSlots.Wait(0))
            {
                if (buffer.TryWrite(run))
                {
                    continue;
                }

                freeSlots.Release();
            }

            (handBack ??= []).Add(new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Released });
        }

        return handBack;
    }
}
