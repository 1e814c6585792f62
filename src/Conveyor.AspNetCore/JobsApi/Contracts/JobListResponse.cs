using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>A page of jobs, newest first; pass <see cref="NextCursor"/> as <c>cursor</c> for the next page (null on the last).</summary>
internal sealed record JobListResponse(
    [property: JsonPropertyName("jobs")] IReadOnlyList<JobResponse> Jobs,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);
