using System.Collections.Frozen;

namespace Conveyor.Events;

/// <summary>The subscribers of every event type, in registration order. Built once; lookups are a frozen dictionary read.</summary>
internal sealed class EventSubscriberRegistry
{
    private readonly FrozenDictionary<string, EventSubscription[]> _byEvent;

    public EventSubscriberRegistry(IEnumerable<EventSubscription> subscriptions)
    {
        var byEvent = new Dictionary<string, List<EventSubscription>>(StringComparer.Ordinal);
        foreach (var subscription in subscriptions)
        {
            if (!byEvent.TryGetValue(subscription.EventType, out var list))
            {
                byEvent[subscription.EventType] = list = [];
            }

            if (FindDuplicate(list, subscription) is { } message)
            {
                throw new InvalidOperationException(message);
            }

            list.Add(subscription);
        }

        _byEvent = byEvent.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
    }

    public IReadOnlyList<EventSubscription> For(string eventType) =>
        _byEvent.TryGetValue(eventType, out var subscriptions) ? subscriptions : [];

    /// <summary>Why <paramref name="added"/> cannot join the event's <paramref name="subscriptions"/>, naming both; null when it can.</summary>
    public static string? FindDuplicate(IEnumerable<EventSubscription> subscriptions, EventSubscription added)
    {
        foreach (var existing in subscriptions.Where(s => s.EventType == added.EventType))
        {
            if (existing.SubscriberType == added.SubscriberType)
            {
                return $"{added.SubscriberType.Name} is registered twice as a subscriber of event '{added.EventType}' " +
                    $"(as '{existing.Name}' and as '{added.Name}'): each subscriber hears an event once; remove one AddSubscriber.";
            }

            if (existing.Name == added.Name)
            {
                return $"{existing.SubscriberType.Name} and {added.SubscriberType.Name} are both subscribers of event '{added.EventType}' " +
                    $"named '{added.Name}' (job type '{added.JobType}'): give one another name (SubscriberOptions.Name).";
            }
        }

        return null;
    }
}
