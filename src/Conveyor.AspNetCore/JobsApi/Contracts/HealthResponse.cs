using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>The answer of <c>/healthz</c> and <c>/readyz</c>.</summary>
internal sealed record HealthResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("store"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Store)
{
    /// <summary>Each health check that ran, by name: Conveyor's (<c>conveyor_store</c>, <c>conveyor_server</c>, <c>conveyor_queue_latency</c>) and the application's own.</summary>
    [JsonPropertyName("checks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, HealthCheckResponse>? Checks { get; init; }
}

/// <summary>One health check's result: <c>Healthy</c>, <c>Degraded</c> or <c>Unhealthy</c>, and what it found.</summary>
internal sealed record HealthCheckResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description);
