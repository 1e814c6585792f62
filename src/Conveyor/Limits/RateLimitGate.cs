using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>
/// Takes the rate permits of the jobs one dequeue leased, in one store call for the whole batch; a job refused by a
/// limit is marked to be snoozed until its turn (the worker acknowledges it so, without running it).
/// </summary>
internal sealed class RateLimitGate(IJobStore store, IReadOnlyList<RateLimitRule> rules, TimeProvider timeProvider)
{
    /// <summary>How long a job waits when the store could not be asked: the limit is never exceeded for an outage.</summary>
    internal static readonly TimeSpan UnknownWait = TimeSpan.FromSeconds(1);

    public bool IsEmpty => rules.Count == 0;

    public async ValueTask ApplyAsync(IReadOnlyList<Server.RunningJob> runs, CancellationToken cancellationToken)
    {
        List<RatePermitRequest>? requests = null;
        List<(Server.RunningJob Run, RateLimitRule Rule)>? owners = null;
        foreach (var run in runs)
        {
            foreach (var rule in rules)
            {
                if (rule.Matches(run.Job))
                {
                    (requests ??= []).Add(rule.Request(run.Job.Tenant));
                    (owners ??= []).Add((run, rule));
                }
            }
        }

        if (requests is null)
        {
            return;
        }

        IReadOnlyList<RatePermitResult> results;
        try
        {
            results = await store.TryAcquireRatePermitsAsync(requests, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException)
        {
            var until = timeProvider.GetUtcNow() + UnknownWait;
            foreach (var (run, rule) in owners!)
            {
                run.HoldForRateLimit(until, $"Rate limit '{rule.Name}' could not be checked (the store did not answer); trying again shortly.");
            }

            return;
        }

        var now = timeProvider.GetUtcNow();
        for (var i = 0; i < results.Count; i++)
        {
            if (!results[i].Acquired)
            {
                var (run, rule) = owners![i];
                var until = now + results[i].RetryAfter;
                run.HoldForRateLimit(until, $"Rate limit '{rule.Name}' reached ({Describe(rule)}); the job starts at its turn, {until:O}.");
            }
        }
    }

    private static string Describe(RateLimitRule rule) =>
        rule.PerTenant ? $"one start every {rule.Interval.TotalMilliseconds:0.###} ms per tenant" : $"one start every {rule.Interval.TotalMilliseconds:0.###} ms";
}
