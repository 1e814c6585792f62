using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>
/// What one <c>POST /jobs/bulk</c> call did. <see cref="Matched"/> jobs were found (the ids that exist in the tenant, or
/// the filter's batch); each was <see cref="Applied"/> or <see cref="Skipped"/> (its state does not allow the action).
/// With a filter, <see cref="NextCursor"/> continues with the next batch; null when every matching job was handled.
/// </summary>
internal sealed record BulkJobsResponse(
    [property: JsonPropertyName("matched")] int Matched,
    [property: JsonPropertyName("applied")] int Applied,
    [property: JsonPropertyName("skipped")] int Skipped,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);
