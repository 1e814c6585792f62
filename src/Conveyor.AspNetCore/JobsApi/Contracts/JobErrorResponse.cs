using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>One error of a job: a failed attempt (with its exception type) or an item error (with the item).</summary>
internal sealed record JobErrorResponse(
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("exception_type")] string? ExceptionType,
    [property: JsonPropertyName("item")] string? Item,
    [property: JsonPropertyName("occurred_at")] string OccurredAt)
{
    /// <summary>The exception's stack trace for an attempt that threw (at most 8,192 characters); null otherwise.</summary>
    [JsonPropertyName("stack_trace")]
    public string? StackTrace { get; init; }
}
