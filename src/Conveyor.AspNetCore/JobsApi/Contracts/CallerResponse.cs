using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>
/// The answer to <c>GET /caller</c>: the tenant the API key acts in, and whether it is an admin key (one that reads and
/// changes what spans tenants: queues, servers, throughput, every tenant's jobs).
/// </summary>
internal sealed record CallerResponse(
    [property: JsonPropertyName("tenant")] string Tenant,
    [property: JsonPropertyName("admin")] bool Admin);
