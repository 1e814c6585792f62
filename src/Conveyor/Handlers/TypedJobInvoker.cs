using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Handlers;

/// <summary>Deserialises the payload into <typeparamref name="TPayload"/> and calls a handler resolved from the job's scope.</summary>
internal sealed class TypedJobInvoker<TPayload, THandler>(JobPayloadSerializer serializer) : JobInvoker
    where TPayload : IJobPayload
    where THandler : class, IJobHandler<TPayload>
{
    public override string JobType => TPayload.JobType;

    public override Task InvokeAsync(JobContext context)
    {
        TPayload payload;
        try
        {
            payload = serializer.Deserialize<TPayload>(context.Payload)
                ?? throw new JsonException("the payload is JSON null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            // Retrying cannot fix a payload that does not fit its type: fail the job at once and say why.
            throw new SkipRetryException(
                $"The payload of job type '{JobType}' could not be deserialised into {typeof(TPayload).Name}: {e.Message}", e);
        }

        var handler = context.Services.GetRequiredService<THandler>();
        return handler.HandleAsync(payload, context, context.CancellationToken);
    }

    public override JobPayloadProblem? ValidatePayload(ReadOnlyMemory<byte> payload) => serializer.Validate<TPayload>(payload);
}
