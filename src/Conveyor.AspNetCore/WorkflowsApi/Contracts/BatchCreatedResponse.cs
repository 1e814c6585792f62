using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.WorkflowsApi.Contracts;

/// <summary>What <c>POST /batches</c> and <c>POST /batches/{id}/jobs</c> answer: the batch and the ids of the jobs stored.</summary>
internal sealed record BatchCreatedResponse
{
    [JsonPropertyName("batch_id")]
    public required string BatchId { get; init; }

    /// <summary>The batch's status (RUNNING unless a replayed request's batch has finished since).</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>The ids of the jobs of the request, in the order given.</summary>
    [JsonPropertyName("job_ids")]
    public required IReadOnlyList<string> JobIds { get; init; }

    /// <summary>The success callback's job id (WAITING until every job succeeded), or null.</summary>
    [JsonPropertyName("on_success_job_id")]
    public string? OnSuccessJobId { get; init; }

    /// <summary>The complete callback's job id (WAITING until every job finished), or null.</summary>
    [JsonPropertyName("on_complete_job_id")]
    public string? OnCompleteJobId { get; init; }

    /// <summary>What the caller should know although the jobs were stored (a queue no running server serves); absent when nothing.</summary>
    [JsonPropertyName("warnings")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}
