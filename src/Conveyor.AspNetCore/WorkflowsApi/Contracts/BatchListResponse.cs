using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.WorkflowsApi.Contracts;

/// <summary>A page of batches (workflows among them), newest first; pass <see cref="NextCursor"/> as <c>cursor</c> for the next page (null on the last).</summary>
internal sealed record BatchListResponse(
    [property: JsonPropertyName("batches")] IReadOnlyList<BatchResponse> Batches,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);
