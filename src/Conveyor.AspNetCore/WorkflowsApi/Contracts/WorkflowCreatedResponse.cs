using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.WorkflowsApi.Contracts;

/// <summary>What <c>POST /workflows</c> answers: the workflow's id and each step's job id, by step name.</summary>
internal sealed record WorkflowCreatedResponse
{
    [JsonPropertyName("workflow_id")]
    public required string WorkflowId { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>The workflow's status (RUNNING unless a replayed request's workflow has finished since).</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>Each step's job id, by step name.</summary>
    [JsonPropertyName("steps")]
    public required IReadOnlyDictionary<string, string> Steps { get; init; }

    /// <summary>What the caller should know although the jobs were stored (a queue no running server serves); absent when nothing.</summary>
    [JsonPropertyName("warnings")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}
