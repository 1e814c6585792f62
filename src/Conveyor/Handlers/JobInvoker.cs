using Conveyor.Idempotency;

namespace Conveyor.Handlers;

/// <summary>Runs the handler of one job type: turns the payload bytes into what the handler takes and calls it.</summary>
internal abstract class JobInvoker
{
    public abstract string JobType { get; }

    public abstract Task InvokeAsync(JobContext context);

    /// <summary>How this handler's jobs are made idempotent; null when its payload is not an <see cref="IIdempotentJob"/>.</summary>
    public virtual IdempotencyPolicy? Idempotency => null;

    /// <summary>The job's idempotency key, from its payload (deserialised once and kept for the handler).</summary>
    public virtual string GetIdempotencyKey(JobContext context) =>
        throw new InvalidOperationException($"Job type '{JobType}' has no idempotency key.");

    /// <summary>Where and why <paramref name="payload"/> would not deserialise into the handler's payload type; null when it would, or when the handler has none.</summary>
    public virtual JobPayloadProblem? ValidatePayload(ReadOnlyMemory<byte> payload, IServiceProvider? services) => null;
}
