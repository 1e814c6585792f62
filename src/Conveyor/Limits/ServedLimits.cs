using System.Collections.Concurrent;
using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>
/// The rules of the limits in force on the queues one server serves, built again only when the limits in force change:
/// each dequeue reads them for the price of a reference comparison, and with no limit on its queues a server's
/// dequeues stay the unlimited ones and it asks the store for no rate permit.
/// </summary>
internal sealed class ServedLimits(LimitsInForce inForce, IEnumerable<string> servedQueues, IJobStore store, TimeProvider timeProvider, Server.PromotionAlarm? alarm = null)
{
    private readonly string[] _served = servedQueues.ToArray();
    // The jobs to start, and whether each was asked once already (then it is asked once more only).
    private readonly ConcurrentQueue<(string JobId, bool Again)> _toStart = new();
    private readonly Lock _rebuildLock = new();
    // Kept across the gates: a gate is rebuilt at every change of the limits, and the jobs waiting for turns of a limit
    // that did not change must still be known when it changes later.
    private readonly RateLimitLines _lines = new();
    private volatile Rules? _rules;

    /// <summary>Whether this server serves <paramref name="queue"/>.</summary>
    public bool Serves(string queue) => Array.IndexOf(_served, queue) >= 0;

    /// <summary>The concurrency limits every dequeue carries; empty when none names a served queue.</summary>
    public IReadOnlyList<ConcurrencyLimitRule> Concurrency => Current.Concurrency;

    /// <summary>The gate that takes the leased jobs' rate permits; null when no rate limit names a served queue.</summary>
    public RateLimitGate? Rate => Current.Rate;

    private Rules Current
    {
        get
        {
            var limits = inForce.Current;
            var rules = _rules;
            return rules is not null && ReferenceEquals(rules.Source, limits) ? rules : Rebuild();
        }
    }

    /// <summary>
    /// One thread at a time: two dequeues that saw the change together would each build a gate, and the pacing and
    /// leases of the discarded one would be lost.
    /// </summary>
    private Rules Rebuild()
    {
        lock (_rebuildLock)
        {
            var limits = inForce.Current;
            var previous = _rules;
            if (previous is not null && ReferenceEquals(previous.Source, limits))
            {
                return previous;
            }

            // Before the new gate is built: it gives turns of the limits in force, and a gate built before, still
            // deciding, gives none of a changed limit (RateLimitLines.Take).
            if (previous is not null && Changed(previous.Source, limits) is { Count: > 0 } changed)
            {
                foreach (var jobId in _lines.TakeWaiting(changed, timeProvider.GetUtcNow()))
                {
                    _toStart.Enqueue((jobId, false));
                }
            }

            var rate = RateLimitRules.For(limits, _served);
            var rules = new Rules(limits, ConcurrencyLimitRules.For(limits, _served), rate.Count > 0 ? new RateLimitGate(store, rate, timeProvider, alarm, _lines) : null);
            _rules = rules;
            return rules;
        }
    }

    /// <summary>
    /// Starts now the jobs this server snoozed to turns of a rate limit that was since removed or changed (raised,
    /// lowered, moved): their turns were given by a rate no longer in force, and a backlog held by a slow limit would
    /// otherwise keep waiting for them after the limit was lifted. Each is run again now (the bulk retry's requeue, which
    /// a job that started meanwhile refuses), and asks for its permit under the limits in force. A job refused because
    /// it was still active (its snooze not stored yet) is asked once more at the next call. Returns how many started.
    /// </summary>
    public async Task<int> StartWaitingOfChangedLimitsAsync(CancellationToken cancellationToken)
    {
        _ = Current;
        var started = 0;
        var again = new List<(string, bool)>();
        while (!_toStart.IsEmpty)
        {
            var batch = new List<(string JobId, bool Again)>();
            while (batch.Count < IJobQueryStore.MaxBulkJobs && _toStart.TryDequeue(out var next))
            {
                batch.Add(next);
            }

            IReadOnlyList<JobCommandResult> results;
            try
            {
                results = await store.RunBulkAsync(JobBulkAction.Requeue, tenant: null, batch.ConvertAll(static b => b.JobId), cancellationToken).ConfigureAwait(false);
            }
            catch (JobStoreUnavailableException)
            {
                // Asked again at the next tick; until then they keep their turns.
                batch.ForEach(_toStart.Enqueue);
                throw;
            }

            for (var i = 0; i < results.Count; i++)
            {
                if (results[i] == JobCommandResult.Done)
                {
                    started++;
                }
                else if (results[i] == JobCommandResult.NotAllowed && !batch[i].Again)
                {
                    again.Add((batch[i].JobId, true));
                }
            }
        }

        again.ForEach(_toStart.Enqueue);
        return started;
    }

    /// <summary>
    /// The rate limits of <paramref name="before"/> that <paramref name="after"/> no longer has, or has with another
    /// definition or written again (a fresh limiter, whose turns are not those given).
    /// </summary>
    private static HashSet<string> Changed(ConveyorLimitsOptions before, ConveyorLimitsOptions after)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, old) in before.Rate)
        {
            if (!after.Rate.TryGetValue(name, out var now) || old.Queue != now.Queue || old.JobType != now.JobType
                || old.Partition != now.Partition || old.Limit != now.Limit || old.Period != now.Period || old.Burst != now.Burst || old.DefinedAt != now.DefinedAt)
            {
                changed.Add(name);
            }
        }

        return changed;
    }

    private sealed record Rules(ConveyorLimitsOptions Source, IReadOnlyList<ConcurrencyLimitRule> Concurrency, RateLimitGate? Rate);
}
