using Conveyor.Server;
using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>
/// Takes the rate permits of the jobs one dequeue leased: first from the permits this server leased ahead
/// (<see cref="RatePermitLeases"/>), then in one store call for the rest of the batch; a job refused by a limit is
/// marked to be held until its turn (the worker acknowledges it so, without running it): handed back to the head of its
/// queue when a queue-wide limit refused it, the queue then paced (<see cref="Pacing"/>); else snoozed until a turn of
/// its own (<see cref="RateLimitLines"/>), at which this server promotes it (<see cref="Server.PromotionAlarm"/>). A job
/// whose turn is a few milliseconds away, or that came back at its turn a little before the permit, waits for it in its
/// worker and is asked for again (<see cref="RunningJob.WaitForTurn"/>). The lines are given by the server
/// (<paramref name="lines"/>): they outlive the gate, rebuilt at every change of the limits.
/// </summary>
internal sealed class RateLimitGate(IJobStore store, IReadOnlyList<RateLimitRule> rules, TimeProvider timeProvider, Server.PromotionAlarm? alarm = null, RateLimitLines? lines = null)
{
    /// <summary>How long a job waits when the store could not be asked: the limit is never exceeded for an outage.</summary>
    internal static readonly TimeSpan UnknownWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest wait for its permit that a leased job waits in its worker rather than being snoozed: a job coming back
    /// at its turn is early when the job before it started late (its promotion and dequeue took longer), and without the
    /// wait it would go to the end of the line and its turn would pass unused. Kept short: the job's lease, which its
    /// started_at records, comes before its permit by the wait.
    /// </summary>
    internal static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(20);

    private readonly RatePermitLeases _leases = new();
    private readonly RateLimitLines _lines = lines ?? new();

    /// <summary>The changes of the limits made before this gate was built (<see cref="RateLimitLines.Changes"/>).</summary>
    private readonly long _builtAt = lines?.Changes ?? 0;

    public bool IsEmpty => rules.Count == 0;

    /// <summary>The queues whose queue-wide limit is being reached, which the fetcher leases only at their turns.</summary>
    public QueuePacing Pacing { get; } = new();

    public async ValueTask ApplyAsync(IReadOnlyList<RunningJob> runs, CancellationToken cancellationToken)
    {
        var demands = Demands(runs);
        if (demands is null)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        var asks = new List<Ask>();
        foreach (var demand in demands.Values)
        {
            var leased = _leases.TakeLeased(demand.Key, demand.Runs.Count, now);
            GivePermits(demand, 0, leased);
            var needed = demand.Runs.Count - leased;
            if (needed == 0)
            {
                continue;
            }

            var lease = _leases.LeaseSize(demand.Rule, demand.Key, needed, now);
            if (lease > 0)
            {
                asks.Add(new Ask(demand, leased, needed, lease));
            }
            else
            {
                AddOnePerJob(asks, demand, leased);
            }
        }

        var refusedLeases = await AskAsync(asks, waitInWorker: true, cancellationToken).ConfigureAwait(false);
        if (refusedLeases is not null)
        {
            await AskAsync(refusedLeases, waitInWorker: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The jobs each limiter key must grant, or null when no rule matches a job.</summary>
    private Dictionary<string, Demand>? Demands(IReadOnlyList<RunningJob> runs)
    {
        Dictionary<string, Demand>? demands = null;
        foreach (var run in runs)
        {
            foreach (var rule in rules)
            {
                if (!rule.Matches(run.Job))
                {
                    continue;
                }

                var request = rule.Request(run.Job.Tenant);
                demands ??= new(StringComparer.Ordinal);
                if (!demands.TryGetValue(request.Key, out var demand))
                {
                    demands[request.Key] = demand = new Demand(rule, request, []);
                }

                demand.Runs.Add(run);
            }
        }

        return demands;
    }

    private static void GivePermits(Demand demand, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            demand.Runs[i].HoldsRatePermit = true;
        }
    }

    private static void AddOnePerJob(List<Ask> asks, Demand demand, int from)
    {
        for (var i = from; i < demand.Runs.Count; i++)
        {
            asks.Add(new Ask(demand, i, 1, 0));
        }
    }

    /// <summary>
    /// Asks the store in one call and holds the refused jobs (or, when <paramref name="waitInWorker"/>, has a job whose
    /// turn is near wait for it in its worker); returns the asks for a permit per job that replace refused leases.
    /// </summary>
    private async ValueTask<List<Ask>?> AskAsync(List<Ask> asks, bool waitInWorker, CancellationToken cancellationToken)
    {
        if (asks.Count == 0)
        {
            return null;
        }

        var requests = new RatePermitRequest[asks.Count];
        for (var i = 0; i < asks.Count; i++)
        {
            requests[i] = asks[i].Lease > 0 ? asks[i].Demand.Request with { Permits = asks[i].Lease } : asks[i].Demand.Request;
        }

        IReadOnlyList<RatePermitResult> results;
        try
        {
            results = await store.TryAcquireRatePermitsAsync(requests, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException)
        {
            var until = timeProvider.GetUtcNow() + UnknownWait;
            foreach (var ask in asks)
            {
                ask.Hold(until, $"Rate limit '{ask.Demand.Rule.Name}' could not be checked (the store did not answer); trying again shortly.", release: false);
            }

            return null;
        }

        var now = timeProvider.GetUtcNow();
        List<Ask>? refusedLeases = null;
        for (var i = 0; i < results.Count; i++)
        {
            var ask = asks[i];
            if (ask.Lease > 0)
            {
                if (results[i].Acquired)
                {
                    _leases.Granted(ask.Demand.Key, ask.Lease, ask.Lease - ask.Count, now);
                    GivePermits(ask.Demand, ask.From, ask.Count);
                }
                else
                {
                    _leases.Refused(ask.Demand.Key, now);
                    AddOnePerJob(refusedLeases ??= [], ask.Demand, ask.From);
                }
            }
            else if (results[i].Acquired)
            {
                GivePermits(ask.Demand, ask.From, 1);
                if (!ask.Demand.Rule.IsQueueWide)
                {
                    _lines.Returning(ask.Demand.Key, ask.JobId);
                }
            }
            else
            {
                var rule = ask.Demand.Rule;
                var until = now + results[i].RetryAfter;
                if (rule.IsQueueWide)
                {
                    Pacing.Refused(rule.Queue, until, rule.Interval, rule.Burst, now);
                }
                else
                {
                    // A job back at its turn keeps its place at the head when the permit is a moment away and before the
                    // line's next turn (the job before it started late): a new job, or one whose turn another job took,
                    // queues behind those waiting rather than on a turn the line gave another.
                    var ownTurn = _lines.Returning(ask.Demand.Key, ask.JobId);
                    var given = ownTurn is not { } turn || results[i].RetryAfter > ShortWait || until - turn >= rule.Interval
                        ? _lines.Take(ask.Demand.Key, ask.JobId, until, rule.Interval, now, _builtAt)
                        : _lines.Keep(ask.Demand.Key, ask.JobId, until, _builtAt) ? until : null;
                    if (given is null)
                    {
                        // The limit changed while this gate, built before, decided (a dequeue that began before the change):
                        // the refusal was the old rate's, and the change has already started the jobs waiting for its turns.
                        // Held until now, the job is promoted at once and asks for its permit under the limit in force.
                        alarm?.RingAt(now);
                        ask.Hold(now, $"Rate limit '{rule.Name}' changed as the job was leased; it asks again under the limit in force.", release: false);
                        continue;
                    }

                    until = given.Value;

                    if (waitInWorker && until - now <= ShortWait)
                    {
                        var again = ask;
                        ask.Demand.Runs[ask.From].WaitForTurn(until, ct => AskAgainAsync(again, ct));
                        continue;
                    }

                    alarm?.RingAt(until);
                }

                ask.Hold(until, $"Rate limit '{rule.Name}' reached ({Describe(rule)}); the job starts at its turn, {InstantText.Format(until)}.", release: rule.IsQueueWide);
            }
        }

        return refusedLeases;
    }

    /// <summary>Asks again for the permit of a job that waited for its turn in its worker; refused, it is snoozed to a turn.</summary>
    private async ValueTask AskAgainAsync(Ask ask, CancellationToken cancellationToken) =>
        await AskAsync([ask], waitInWorker: false, cancellationToken).ConfigureAwait(false);

    private static string Describe(RateLimitRule rule) =>
        rule.PerTenant ? $"one start every {rule.Interval.TotalMilliseconds:0.###} ms per tenant" : $"one start every {rule.Interval.TotalMilliseconds:0.###} ms";

    /// <summary>The jobs of one batch that one limiter key must grant.</summary>
    private sealed record Demand(RateLimitRule Rule, RatePermitRequest Request, List<RunningJob> Runs)
    {
        public string Key => Request.Key;
    }

    /// <summary>One request to the store: a lease of <see cref="Lease"/> permits, or (Lease 0) one permit, for <see cref="Count"/> jobs from <see cref="From"/>.</summary>
    private readonly record struct Ask(Demand Demand, int From, int Count, int Lease)
    {
        /// <summary>The job of a one-permit ask (Count 1).</summary>
        public string JobId => Demand.Runs[From].Job.Id;

        public void Hold(DateTimeOffset until, string reason, bool release)
        {
            for (var i = From; i < From + Count; i++)
            {
                Demand.Runs[i].HoldForRateLimit(until, reason, release);
            }
        }
    }
}
