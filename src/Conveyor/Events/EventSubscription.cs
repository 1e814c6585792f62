namespace Conveyor.Events;

/// <summary>One subscriber of one event, as registered by <c>AddSubscriber</c>: everything a publish needs to build its job.</summary>
internal sealed record EventSubscription(
    string EventType,
    Type EventClrType,
    string Name,
    Type SubscriberType,
    string JobType,
    string Queue,
    JobOptions Options);
