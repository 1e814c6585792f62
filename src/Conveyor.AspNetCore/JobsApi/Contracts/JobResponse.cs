using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.JobsApi.Contracts;

/// <summary>A job as <c>GET /jobs/{id}</c> shows it. Timestamps are RFC 3339 in UTC; absent ones are null.</summary>
internal sealed record JobResponse
{
    [JsonPropertyName("job_id")]
    public required string JobId { get; init; }

    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("queue")]
    public required string Queue { get; init; }

    /// <summary>The tenant the job belongs to (the API key's, or any tenant's in an admin key's listing).</summary>
    [JsonPropertyName("tenant")]
    public required string Tenant { get; init; }

    /// <summary>SCHEDULED, QUEUED, RUNNING, RETRYING, SUCCESS, PARTIAL_SUCCESS, FAILED, CANCELLED or WAITING (for other jobs: a continuation, a batch callback).</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>0–100, as reported by the handler.</summary>
    [JsonPropertyName("progress")]
    public int Progress { get; init; }

    /// <summary>The payload as enqueued; shown by <c>GET /jobs/{id}</c>, left out of listings and of the answers of commands.</summary>
    [JsonPropertyName("payload")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RawJson? Payload { get; init; }

    [JsonPropertyName("result_url")]
    public string? ResultUrl { get; init; }

    /// <summary>The result the handler stored: its JSON when it is JSON, otherwise a base64 string.</summary>
    [JsonPropertyName("result")]
    public RawJson? Result { get; init; }

    [JsonPropertyName("errors")]
    public required IReadOnlyList<JobErrorResponse> Errors { get; init; }

    [JsonPropertyName("attempts")]
    public int Attempts { get; init; }

    [JsonPropertyName("max_retry")]
    public int MaxRetry { get; init; }

    /// <summary>True while a cancellation of the running job is on its way to the worker.</summary>
    [JsonPropertyName("cancel_requested")]
    public bool CancelRequested { get; init; }

    /// <summary>
    /// Why the job was last handed back to wait until <c>scheduled_at</c> without counting an attempt (e.g. no server
    /// that handles its type has taken it yet, or it waits for a signal); null when it never was, cleared when a later
    /// attempt ends, and null once the job has finished (a waiting job cancelled). Not an error.
    /// </summary>
    [JsonPropertyName("snoozed_reason")]
    public string? SnoozedReason { get; init; }

    /// <summary>
    /// The W3C trace id of the code that enqueued the job (32 hex digits): every attempt's span is in this trace, so
    /// it finds the job's processing in a tracing backend. Null when the job was enqueued outside any trace.
    /// </summary>
    [JsonPropertyName("trace_id")]
    public string? TraceId { get; init; }

    /// <summary>The batch (or workflow: <c>GET /workflows/{id}</c>) the job belongs to; null for none.</summary>
    [JsonPropertyName("batch_id")]
    public string? BatchId { get; init; }

    /// <summary>The ids of the jobs or batches the job waits (or waited) for; empty for none.</summary>
    [JsonPropertyName("depends_on")]
    public IReadOnlyList<string> DependsOn { get; init; } = [];

    [JsonPropertyName("created_at")]
    public required string CreatedAt { get; init; }

    [JsonPropertyName("updated_at")]
    public required string UpdatedAt { get; init; }

    [JsonPropertyName("scheduled_at")]
    public string? ScheduledAt { get; init; }

    [JsonPropertyName("started_at")]
    public string? StartedAt { get; init; }

    [JsonPropertyName("completed_at")]
    public string? CompletedAt { get; init; }
}
