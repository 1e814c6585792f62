using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// Publishes events to their subscribers (<c>AddSubscriber</c>): one job per subscriber, each in its subscriber's queue
/// with its subscriber's options, all stored in one atomic store operation, so that every subscriber gets the event or
/// none does. Registered by <c>AddConveyor</c>; safe to use from any thread.
/// </summary>
public interface IEventPublisher
{
    /// <summary>Stores one job per subscriber of the event, all or none.</summary>
    /// <returns>The job of each subscriber, or a duplicate outcome when <see cref="PublishOptions.UniqueKey"/> is held.</returns>
    /// <exception cref="ArgumentException">The event or the options are invalid (thrown at the call, before anything is written).</exception>
    /// <exception cref="InvalidOperationException">The event has no subscriber and <c>Conveyor:Events:NoSubscribers</c> is <c>Throw</c> (the default).</exception>
    /// <exception cref="JobStoreUnavailableException">The store could not be reached; no job was stored.</exception>
    Task<PublishResult> PublishAsync<TEvent>(TEvent @event, PublishOptions? options = null, CancellationToken cancellationToken = default)
        where TEvent : IEventPayload;

    /// <summary>
    /// Builds the jobs a publish would store (one per subscriber, in registration order, validated, defaults applied)
    /// without storing them: for a store that writes them inside the caller's own transaction
    /// (<c>connection.EnqueueAllOrNoneAsync(transaction, store, jobs)</c> on PostgreSQL).
    /// </summary>
    /// <exception cref="ArgumentException">The event or the options are invalid.</exception>
    /// <exception cref="InvalidOperationException">The event has no subscriber and <c>Conveyor:Events:NoSubscribers</c> is <c>Throw</c>.</exception>
    IReadOnlyList<NewJob> CreateJobs<TEvent>(TEvent @event, PublishOptions? options = null)
        where TEvent : IEventPayload;
}
