using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.SchedulesApi.Contracts;

/// <summary>A page of the tenant's schedules by name; pass <see cref="NextCursor"/> as <c>cursor</c> for the next page (null on the last).</summary>
internal sealed record ScheduleListResponse(
    [property: JsonPropertyName("schedules")] IReadOnlyList<ScheduleResponse> Schedules,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);
