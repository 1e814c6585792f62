using System.Diagnostics.CodeAnalysis;
using Conveyor;
using Conveyor.Client;
using Conveyor.Events;
using Conveyor.Handlers;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Event fan-out: <c>.AddSubscriber&lt;NoteCreated, IndexNote&gt;(queue: "default")</c>, published through <see cref="IEventPublisher"/>.</summary>
public static class EventConveyorBuilderExtensions
{
    /// <summary>
    /// Subscribes <typeparamref name="TSubscriber"/> to <typeparamref name="TEvent"/>: every publish of the event stores a
    /// job of type <c>{event type}.{subscriber name}</c> (<see cref="EventJobType"/>) on <paramref name="queue"/> with
    /// <paramref name="options"/>, which <typeparamref name="TSubscriber"/> runs like any handler. Register the same
    /// subscribers in every process that publishes the event (the publisher builds their jobs) and in the workers that
    /// run them.
    /// </summary>
    /// <exception cref="ArgumentException">The event type, the queue, the subscriber's name or its options are invalid.</exception>
    /// <exception cref="InvalidOperationException">The subscriber is already registered for the event, or another one has its name.</exception>
    public static IConveyorBuilder AddSubscriber<TEvent, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSubscriber>(this IConveyorBuilder builder, string queue = QueueName.Default, SubscriberOptions? options = null)
        where TEvent : IEventPayload
        where TSubscriber : class, IEventSubscriber<TEvent>
    {
        ArgumentNullException.ThrowIfNull(builder);
        JobType.EnsureValid(TEvent.EventType, nameof(TEvent));

        // Every refusal starts with the subscriber and its event: an app registers many, and the message is all it sees.
        var subscriber = $"{typeof(TSubscriber).Name} of event '{TEvent.EventType}'";
        if (!QueueName.IsConfigurable(queue))
        {
            throw new ArgumentException($"{subscriber}: '{queue}' is not a queue name: use {QueueName.ConfigurableRule}.", nameof(queue));
        }

        var name = options?.Name ?? EventJobType.DefaultName(typeof(TSubscriber));
        var jobOptions = new JobOptions
        {
            Queue = queue,
            MaxRetry = options?.MaxRetry,
            Timeout = options?.Timeout,
            Retention = options?.Retention,
        };
        try
        {
            JobOptionsValidator.Validate(jobOptions, DateTimeOffset.MinValue);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{subscriber}: Subscriber{e.Message}", nameof(options), e);
        }

        string jobType;
        try
        {
            jobType = EventJobType.For(TEvent.EventType, name);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{subscriber}: {e.Message}", nameof(options), e);
        }

        var subscription = new EventSubscription(TEvent.EventType, typeof(TEvent), name, typeof(TSubscriber), jobType, queue, jobOptions);
        var registered = builder.Services
            .Where(static d => d.ServiceType == typeof(EventSubscription) && d.ImplementationInstance is not null)
            .Select(static d => (EventSubscription)d.ImplementationInstance!);
        if (EventSubscriberRegistry.FindDuplicate(registered, subscription) is { } duplicate)
        {
            throw new InvalidOperationException(duplicate);
        }

        builder.Services.AddSingleton(subscription);
        builder.Services.TryAddScoped<TSubscriber>();
        builder.Services.AddSingleton<JobInvoker>(sp => new EventSubscriberInvoker<TEvent, TSubscriber>(subscription.JobType, sp.GetRequiredService<JobPayloadSerializer>()));
        return builder;
    }

    /// <summary>The publisher and the subscriber registry; part of <c>AddConveyor</c>.</summary>
    internal static void AddEventPublisher(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new EventSubscriberRegistry(sp.GetServices<EventSubscription>()));
        services.TryAddSingleton<IEventPublisher, EventPublisher>();
    }
}
