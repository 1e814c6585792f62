using Conveyor.Storage;

namespace Conveyor.Workflows;

/// <summary>Delivering a signal to a job that waits for it (<see cref="JobContext.WaitForSignalAsync"/>).</summary>
internal sealed partial class WorkflowClient
{
    public Task<JobSignalResult> SignalAsync<T>(string jobId, string name, T payload, string tenant, CancellationToken cancellationToken = default)
    {
        // Bytes are JSON already (a byte[] or Memory<byte> picks this overload over the ReadOnlyMemory<byte> one), not
        // a value to write as a base64 string.
        ReadOnlyMemory<byte> json = payload switch
        {
            byte[] bytes => bytes,
            ReadOnlyMemory<byte> bytes => bytes,
            Memory<byte> bytes => bytes,
            _ => serializer.Serialize(payload),
        };
        return SignalAsync(jobId, name, json, tenant, cancellationToken);
    }

    public async Task<JobSignalResult> SignalAsync(string jobId, string name, ReadOnlyMemory<byte> payload, string tenant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobId);

        // No payload is JSON null, as an empty body of POST /jobs/{id}/signals/{name} is.
        if (payload.IsEmpty)
        {
            payload = "null"u8.ToArray();
        }

        JobSignal.Validate(name, payload.Length);
        EnsureTenant(tenant);
        if (!JobSignal.IsJsonPayload(payload.Span, out var reason))
        {
            // The HTTP API refuses the same payload with a 400: a handler's WaitForSignalAsync<T> could not read it.
            throw new ArgumentException(
                JobSignal.DuplicateName(payload.Span) is { } duplicate
                    ? $"The payload of signal '{name}' names {duplicate} more than once: a reader could take either value."
                    : $"The payload of signal '{name}' is not JSON: {reason}",
                nameof(payload));
        }

        if (!JobId.IsValid(jobId))
        {
            return JobSignalResult.NotFound;
        }

        var result = await store.SignalAsync(tenant, jobId, name, payload, cancellationToken).ConfigureAwait(false);
        if (result == JobSignalResult.Resumed)
        {
            readySignal.Set();
        }

        return result;
    }
}
