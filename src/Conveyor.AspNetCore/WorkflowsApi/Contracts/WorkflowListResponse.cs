using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.WorkflowsApi.Contracts;

/// <summary>A page of workflows, newest first; pass <see cref="NextCursor"/> as <c>cursor</c> for the next page (null on the last).</summary>
internal sealed record WorkflowListResponse(
    [property: JsonPropertyName("workflows")] IReadOnlyList<WorkflowSummaryResponse> Workflows,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);

/// <summary>
/// A workflow as a listing shows it: its name, status, how many steps, and its batch's counts. Its steps' own status is
/// <c>GET /workflows/{id}</c>'s (one read of the steps' jobs per workflow, which a page of them does not pay).
/// </summary>
internal sealed record WorkflowSummaryResponse
{
    [JsonPropertyName("workflow_id")]
    public required string WorkflowId { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>RUNNING, SUCCESS, COMPLETED or CANCELLED: its batch's.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>How many steps it was started with.</summary>
    [JsonPropertyName("steps")]
    public int Steps { get; init; }

    [JsonPropertyName("batch")]
    public required BatchResponse Batch { get; init; }
}
