using Conveyor.Storage;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The queues an operator can see and act on: those a live server serves (the server registry) and those the store
/// has statistics for (queues with jobs, or paused), each with the number of servers that serve it.
/// </summary>
internal static class KnownQueues
{
    public static async Task<IReadOnlyList<(QueueStats Stats, int Servers)>> ReadAsync(IJobStore store, CancellationToken cancellationToken)
    {
        var stats = await store.GetQueueStatsAsync(cancellationToken).ConfigureAwait(false);
        var servers = await store.ListServersAsync(cancellationToken).ConfigureAwait(false);
        var byName = new SortedDictionary<string, (QueueStats Stats, int Servers)>(StringComparer.Ordinal);
        foreach (var queue in stats)
        {
            byName[queue.Queue] = (queue, 0);
        }

        foreach (var server in servers)
        {
            foreach (var queue in server.Queues.Keys)
            {
                byName[queue] = byName.TryGetValue(queue, out var known)
                    ? (known.Stats, known.Servers + 1)
                    : (new QueueStats { Queue = queue }, 1);
            }
        }

        return [.. byName.Values];
    }
}
