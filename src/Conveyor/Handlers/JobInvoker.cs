namespace Conveyor.Handlers;

/// <summary>Runs the handler of one job type: turns the payload bytes into what the handler takes and calls it.</summary>
internal abstract class JobInvoker
{
    public abstract string JobType { get; }

    public abstract Task InvokeAsync(JobContext context);

    /// <summary>Where and why <paramref name="payload"/> would not deserialise into the handler's payload type; null when it would, or when the handler has none.</summary>
    public virtual JobPayloadProblem? ValidatePayload(ReadOnlyMemory<byte> payload) => null;
}
