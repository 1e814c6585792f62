using Conveyor.Storage;

namespace Conveyor;

/// <summary>What <see cref="IWorkflowClient.StartWorkflowAsync"/> did: the workflow's id and whether its steps were stored (all or none).</summary>
/// <param name="WorkflowId">The workflow's id (also its batch's id); it exists only when <see cref="Created"/>.</param>
/// <param name="Jobs">The steps' results, in the order they were stored (every step after those it runs after).</param>
/// <param name="StepJobIds">Each step's job id, by step name.</param>
public sealed record WorkflowEnqueueResult(string WorkflowId, EnqueueAllResult Jobs, IReadOnlyDictionary<string, string> StepJobIds)
{
    /// <summary>True when the workflow and all its steps were stored.</summary>
    public bool Created => Jobs.AllStored;
}
