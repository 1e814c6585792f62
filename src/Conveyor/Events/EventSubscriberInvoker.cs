using System.Text.Json;
using Conveyor.Handlers;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Events;

/// <summary>Runs a subscriber's job: deserialises the event and calls the subscriber resolved from the job's scope.</summary>
internal sealed class EventSubscriberInvoker<TEvent, TSubscriber>(string jobType, JobPayloadSerializer serializer) : JobInvoker
    where TEvent : IEventPayload
    where TSubscriber : class, IEventSubscriber<TEvent>
{
    public override string JobType => jobType;

    public override Task InvokeAsync(JobContext context)
    {
        TEvent @event;
        try
        {
            @event = serializer.Deserialize<TEvent>(context.Payload) ?? throw new JsonException("the payload is JSON null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            // Retrying cannot fix a payload that does not fit the event: fail the job at once and say why.
            throw new SkipRetryException(
                $"The payload of job type '{JobType}' could not be deserialised into {typeof(TEvent).Name}: {(e is JsonException json ? serializer.Explain<TEvent>(json) : e.Message)}", e);
        }

        var subscriber = context.Services.GetRequiredService<TSubscriber>();
        return subscriber.HandleAsync(@event, context, context.CancellationToken);
    }

    public override JobPayloadProblem? ValidatePayload(ReadOnlyMemory<byte> payload, IServiceProvider? services) => serializer.Validate<TEvent>(payload, services);
}
