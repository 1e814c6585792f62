namespace Conveyor;

/// <summary>A snapshot of a batch: its state and the counts of its jobs by outcome.</summary>
public sealed record BatchInfo
{
    /// <summary>The batch's id.</summary>
    public required string Id { get; init; }

    /// <summary>The tenant the batch belongs to.</summary>
    public required string Tenant { get; init; }

    /// <summary>Where the batch is: running, succeeded, completed or cancelled.</summary>
    public required BatchState State { get; init; }

    /// <summary>Jobs in the batch, those added while it ran included (callbacks are not members).</summary>
    public required int Total { get; init; }

    /// <summary>Members that succeeded or partly succeeded.</summary>
    public int Succeeded { get; init; }

    /// <summary>Members that failed for good.</summary>
    public int Failed { get; init; }

    /// <summary>Members that were cancelled.</summary>
    public int Cancelled { get; init; }

    /// <summary>Members that have not finished yet.</summary>
    public int Unfinished => Total - Succeeded - Failed - Cancelled;

    /// <summary>Finished members in percent of <see cref="Total"/> (0–100).</summary>
    public int Progress => Total == 0 ? 100 : (int)((Total - Unfinished) * 100L / Total);

    /// <summary>When the batch was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the batch last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When its last member finished (and its callbacks were released); null while it runs.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The workflow's name and steps when the batch is a workflow (<see cref="IWorkflowClient.StartWorkflowAsync"/>); null for a plain batch.</summary>
    public Storage.WorkflowDefinition? Workflow { get; init; }
}
