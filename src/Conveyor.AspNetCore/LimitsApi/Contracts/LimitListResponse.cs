using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.LimitsApi.Contracts;

/// <summary>The answer to <c>GET /limits</c>: every limit in force, concurrency limits first, then by name.</summary>
internal sealed record LimitListResponse(
    [property: JsonPropertyName("limits")] IReadOnlyList<LimitResponse> Limits,
    [property: JsonPropertyName("refresh_interval_seconds")] double RefreshIntervalSeconds);
