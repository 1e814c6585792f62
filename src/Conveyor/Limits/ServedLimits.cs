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
    private volatile Rules? _rules;

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
            if (rules is not null && ReferenceEquals(rules.Source, limits))
            {
                return rules;
            }

            var rate = RateLimitRules.For(limits, _served);
            rules = new Rules(limits, ConcurrencyLimitRules.For(limits, _served), rate.Count > 0 ? new RateLimitGate(store, rate, timeProvider, alarm) : null);
            _rules = rules;
            return rules;
        }
    }

    private sealed record Rules(ConveyorLimitsOptions Source, IReadOnlyList<ConcurrencyLimitRule> Concurrency, RateLimitGate? Rate);
}
