using System.Text.Json;
using Conveyor.Idempotency;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Handlers;

/// <summary>Deserialises the payload into <typeparamref name="TPayload"/> and calls a handler resolved from the job's scope.</summary>
internal sealed class TypedJobInvoker<TPayload, THandler>(JobPayloadSerializer serializer) : JobInvoker
    where TPayload : IJobPayload
    where THandler : class, IJobHandler<TPayload>
{
    public override string JobType => TPayload.JobType;

    private static readonly IdempotencyPolicy? Policy = IdempotencyPolicy.For(typeof(TPayload), typeof(THandler));

    public override IdempotencyPolicy? Idempotency => Policy;

    public override Task InvokeAsync(JobContext context)
    {
        var payload = context.DeserializedPayload is TPayload deserialized ? deserialized : Deserialize(context);
        var handler = context.Services.GetRequiredService<THandler>();
        return handler.HandleAsync(payload, context, context.CancellationToken);
    }

    public override string GetIdempotencyKey(JobContext context)
    {
        var payload = Deserialize(context);
        context.DeserializedPayload = payload;
        var key = payload is IIdempotentJob idempotent ? idempotent.IdempotencyKey : null;
        if (string.IsNullOrWhiteSpace(key) || key.Length > IdempotentAttribute.MaxKeyLength)
        {
            // Retrying cannot fix the key: fail the job at once and say why.
            throw new SkipRetryException(
                $"The idempotency key of job type '{JobType}' ({typeof(TPayload).Name}.IdempotencyKey) is " +
                (string.IsNullOrWhiteSpace(key) ? "empty" : $"{key.Length} characters long, over the limit of {IdempotentAttribute.MaxKeyLength}") +
                ": the handler was not run.");
        }

        return key;
    }

    private TPayload Deserialize(JobContext context)
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
                $"The payload of job type '{JobType}' could not be deserialised into {typeof(TPayload).Name}: {(e is JsonException json ? serializer.Explain<TPayload>(json) : e.Message)}", e);
        }

        return payload;
    }

    public override JobPayloadProblem? ValidatePayload(ReadOnlyMemory<byte> payload, IServiceProvider? services) => serializer.Validate<TPayload>(payload, services);
}
