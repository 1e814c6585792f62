using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>The answer to <c>GET /servers</c>: the worker servers with a current heartbeat, by id.</summary>
internal sealed record ServerListResponse([property: JsonPropertyName("servers")] IReadOnlyList<ServerResponse> Servers);
