using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>The answer to <c>POST /jobs</c> (202), as in seed 004.</summary>
public sealed record JobCreatedResponse(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] string CreatedAt);
