namespace Conveyor;

/// <summary>
/// Handles one event type as a job of its own (<c>AddSubscriber&lt;TEvent, TSubscriber&gt;</c>): its job type is the
/// event type and the subscriber's name (<see cref="EventJobType"/>), with its own queue, retries and timeout. It is
/// resolved from dependency injection in a new scope per job and runs through the same middleware as any handler.
/// </summary>
/// <typeparam name="TEvent">The event; its job's payload.</typeparam>
public interface IEventSubscriber<in TEvent>
    where TEvent : IEventPayload
{
    /// <summary>
    /// Runs one attempt for one event. Return for success; throw to fail the attempt (retried with backoff, without
    /// touching the event's other subscribers), or throw <see cref="SkipRetryException"/> when retrying cannot help.
    /// </summary>
    Task HandleAsync(TEvent @event, JobContext context, CancellationToken cancellationToken);
}
