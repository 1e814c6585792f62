using System.Text.Json;
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
        if (!IsJson(payload.Span, out var reason))
        {
            // The HTTP API refuses the same payload with a 400: a handler's WaitForSignalAsync<T> could not read it.
            throw new ArgumentException($"The payload of signal '{name}' is not JSON: {reason}", nameof(payload));
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

    /// <summary>One JSON value in valid UTF-8, as the Jobs API's signal endpoint takes it.</summary>
    private static bool IsJson(ReadOnlySpan<byte> payload, out string reason)
    {
        // The reader checks the JSON's shape, not the UTF-8 inside its strings, which a reader of the steps then fails on.
        if (!System.Text.Unicode.Utf8.IsValid(payload))
        {
            reason = "not valid UTF-8.";
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 64 });
            reader.Read();
            reader.Skip();
            if (reader.Read())
            {
                reason = "more than one JSON value.";
                return false;
            }

            reason = "";
            return true;
        }
        catch (JsonException e)
        {
            reason = e.Message;
            return false;
        }
    }
}
