namespace Conveyor;

/// <summary>A snapshot of a workflow: its batch's state and counts, and each step with its job's state.</summary>
public sealed record WorkflowInfo
{
    /// <summary>The workflow's id (its batch's id).</summary>
    public required string Id { get; init; }

    /// <summary>The name given to <see cref="WorkflowBuilder"/>, or null.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The workflow's state, its batch's: running until every step has finished, then succeeded (every step
    /// succeeded) or completed (some did not); cancelled when cancelled as a whole (<see cref="IWorkflowClient.CancelBatchAsync"/>).
    /// </summary>
    public BatchState State => Batch.State;

    /// <summary>The batch behind the workflow: counts by outcome, progress, times.</summary>
    public required BatchInfo Batch { get; init; }

    /// <summary>The steps, every step after those it runs after.</summary>
    public required IReadOnlyList<WorkflowStepInfo> Steps { get; init; }

    /// <summary>
    /// The jobs added to the workflow's batch after it started (<see cref="IWorkflowClient.AddToBatchAsync"/>), oldest
    /// first, while they are stored: the workflow finishes when they have finished too. They are not steps: nothing
    /// runs after them by name.
    /// </summary>
    public IReadOnlyList<JobInfo> AddedJobs { get; init; } = [];
}

/// <summary>One step of a <see cref="WorkflowInfo"/>.</summary>
public sealed record WorkflowStepInfo
{
    /// <summary>The step's name, unique in its workflow.</summary>
    public required string Name { get; init; }

    /// <summary>The id of the job that runs the step.</summary>
    public required string JobId { get; init; }

    /// <summary>The names of the steps it runs after.</summary>
    public required IReadOnlyList<string> After { get; init; }

    /// <summary>The step's job, or null once the job's retention has passed (the workflow's record is kept longer).</summary>
    public JobInfo? Job { get; init; }

    /// <summary>The step's state (its job's), or null once the job is no longer stored.</summary>
    public JobState? State => Job?.State;
}
