using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.WorkflowsApi.Contracts;

/// <summary>A workflow as <c>GET /workflows/{id}</c> shows it: its state (its batch's) and each step.</summary>
internal sealed record WorkflowResponse
{
    [JsonPropertyName("workflow_id")]
    public required string WorkflowId { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>RUNNING, SUCCESS (every step succeeded), COMPLETED (every step finished, some did not succeed) or CANCELLED.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>The batch behind the workflow: counts by outcome and progress.</summary>
    [JsonPropertyName("batch")]
    public required BatchResponse Batch { get; init; }

    /// <summary>The steps, every step after those it runs after.</summary>
    [JsonPropertyName("steps")]
    public required IReadOnlyList<WorkflowStepResponse> Steps { get; init; }

    /// <summary>The jobs added to the workflow after it started (<c>POST /batches/{id}/jobs</c>), oldest first: its end waits for them too.</summary>
    [JsonPropertyName("added_jobs")]
    public required IReadOnlyList<WorkflowAddedJobResponse> AddedJobs { get; init; }
}

/// <summary>A job added to a running workflow.</summary>
internal sealed record WorkflowAddedJobResponse
{
    [JsonPropertyName("job_id")]
    public required string JobId { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("type")]
    public required string Type { get; init; }
}

/// <summary>One step of a workflow.</summary>
internal sealed record WorkflowStepResponse
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>The job that runs the step (<c>GET /jobs/{id}</c> shows its result and errors).</summary>
    [JsonPropertyName("job_id")]
    public required string JobId { get; init; }

    /// <summary>The job's status (WAITING until the steps it runs after succeeded); null once the job's retention has passed.</summary>
    [JsonPropertyName("status")]
    public string? Status { get; init; }

    /// <summary>The names of the steps it runs after.</summary>
    [JsonPropertyName("after")]
    public required IReadOnlyList<string> After { get; init; }

    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("attempts")]
    public int Attempts { get; init; }

    [JsonPropertyName("started_at")]
    public string? StartedAt { get; init; }

    [JsonPropertyName("completed_at")]
    public string? CompletedAt { get; init; }
}
