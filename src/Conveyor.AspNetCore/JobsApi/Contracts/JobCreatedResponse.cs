using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>The answer to <c>POST /jobs</c> (202), as in seed 004.</summary>
internal sealed record JobCreatedResponse(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] string CreatedAt)
{
    /// <summary>What the caller should know although the job was accepted (a queue no running server serves); absent when nothing.</summary>
    [JsonPropertyName("warnings")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }

    /// <summary>The ids of the jobs the new job waits for (its <c>after</c>), as <c>GET /jobs/{id}</c> shows them; absent when none.</summary>
    [JsonPropertyName("depends_on")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? DependsOn { get; init; }
}
