using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>The answer to <c>GET /queues</c>: every queue a live server serves, has jobs or is paused, by name.</summary>
internal sealed record QueueListResponse([property: JsonPropertyName("queues")] IReadOnlyList<QueueResponse> Queues);
