using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.WorkflowsApi.Contracts;

/// <summary>A batch as <c>GET /batches/{id}</c> shows it (and the batch behind a workflow). Timestamps are RFC 3339 in UTC.</summary>
internal sealed record BatchResponse
{
    [JsonPropertyName("batch_id")]
    public required string BatchId { get; init; }

    [JsonPropertyName("tenant")]
    public required string Tenant { get; init; }

    /// <summary>RUNNING, SUCCESS (every job succeeded), COMPLETED (every job finished, some did not succeed) or CANCELLED.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>Jobs in the batch (callbacks not counted).</summary>
    [JsonPropertyName("total")]
    public int Total { get; init; }

    [JsonPropertyName("succeeded")]
    public int Succeeded { get; init; }

    [JsonPropertyName("failed")]
    public int Failed { get; init; }

    [JsonPropertyName("cancelled")]
    public int Cancelled { get; init; }

    /// <summary>Jobs that have not finished yet.</summary>
    [JsonPropertyName("unfinished")]
    public int Unfinished { get; init; }

    /// <summary>Finished jobs in percent of the total (0–100).</summary>
    [JsonPropertyName("progress")]
    public int Progress { get; init; }

    /// <summary>The workflow's name when the batch is a workflow (<c>GET /workflows/{id}</c> shows its steps), else null.</summary>
    [JsonPropertyName("workflow_name")]
    public string? WorkflowName { get; init; }

    /// <summary>True when the batch is a workflow.</summary>
    [JsonPropertyName("is_workflow")]
    public bool IsWorkflow { get; init; }

    [JsonPropertyName("created_at")]
    public required string CreatedAt { get; init; }

    [JsonPropertyName("updated_at")]
    public required string UpdatedAt { get; init; }

    /// <summary>When its last job finished; null while it runs.</summary>
    [JsonPropertyName("finished_at")]
    public string? FinishedAt { get; init; }
}
