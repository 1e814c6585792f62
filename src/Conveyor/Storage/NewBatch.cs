namespace Conveyor.Storage;

/// <summary>A batch to create, with its defaults applied by the client.</summary>
public sealed record NewBatch
{
    /// <summary><c>batch_</c> and 32 lowercase hex digits.</summary>
    public required string Id { get; init; }

    /// <summary>The tenant the batch and all its jobs belong to.</summary>
    public required string Tenant { get; init; }

    /// <summary>How long the batch's record is kept after its last job finished.</summary>
    public required TimeSpan Retention { get; init; }

    /// <summary>The steps of the workflow this batch is (a DAG started by <see cref="IWorkflowClient.StartWorkflowAsync"/>), or null for a plain batch. Kept as given.</summary>
    public WorkflowDefinition? Workflow { get; init; }
}
