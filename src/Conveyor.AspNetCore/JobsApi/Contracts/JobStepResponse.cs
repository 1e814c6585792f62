using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>
/// One durable record on a job: a finished step of its handler (<c>kind</c> "step"), a signal delivered to it
/// ("signal"; a null result with <c>timed_out</c> when its wait ended without one), the deadline of a wait for a
/// signal ("wait") or of a durable sleep ("sleep"), an RFC 3339 time.
/// </summary>
internal sealed record JobStepResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("result")] RawJson? Result,
    [property: JsonPropertyName("completed_at")] string CompletedAt)
{
    /// <summary>True for a signal whose wait timed out before it came (omitted otherwise).</summary>
    [JsonPropertyName("timed_out")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool TimedOut { get; init; }
}

/// <summary>A job's durable steps, signals and waits, in the order they were stored.</summary>
internal sealed record JobStepListResponse(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("steps")] IReadOnlyList<JobStepResponse> Steps);
