using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>One error of a job: a failed attempt (with its exception type) or an item error (with the item).</summary>
internal sealed record JobErrorResponse(
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("exception_type")] string? ExceptionType,
    [property: JsonPropertyName("item")] string? Item,
    [property: JsonPropertyName("occurred_at")] string OccurredAt)
{
    /// <summary>
    /// The exception's stack trace for an attempt that threw (at most 8,192 characters); null otherwise. Left out of
    /// listings and of the answers of commands (<see cref="InSummary"/>), where a job with many errors would carry
    /// kilobytes of frames each.
    /// </summary>
    [JsonPropertyName("stack_trace")]
    public string? StackTrace { get; init; }

    /// <summary>
    /// True for an error of a job in a listing or in a command's answer: its <c>stack_trace</c> is left out rather than
    /// written as null, which would say the error has none.
    /// </summary>
    [JsonIgnore]
    public bool InSummary { get; init; }

    /// <summary>The serializer's modifier that leaves <c>stack_trace</c> out of the errors of a job shown in summary.</summary>
    public static void LeaveOutStackTraceInSummary(JsonTypeInfo info)
    {
        if (info.Type != typeof(JobErrorResponse))
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            if (property.Name == "stack_trace")
            {
                property.ShouldSerialize = static (error, _) => !((JobErrorResponse)error).InSummary;
            }
        }
    }
}
