using Conveyor.Storage;
using Conveyor.Workflows;

namespace Conveyor;

/// <summary>
/// What <see cref="IWorkflowClient.StartBatchAsync"/> or <see cref="IWorkflowClient.StartWorkflowAsync"/> hands the
/// store in one call: the batch's record and every job, members and callbacks marked with the batch's id. For a
/// store's own way in, such as PostgreSQL's enqueue inside the application's transaction, which then stores exactly
/// what the client would.
/// </summary>
/// <param name="Batch">The batch's record (a workflow's carries its definition).</param>
/// <param name="Jobs">Every job to store with it, all or none.</param>
/// <param name="StepJobIds">A workflow's job ids by step name; null for a batch.</param>
public sealed record BatchPlan(NewBatch Batch, IReadOnlyList<NewJob> Jobs, IReadOnlyDictionary<string, string>? StepJobIds)
{
    /// <summary>The plan of a batch of <paramref name="jobs"/>; an <see cref="ArgumentException"/> for what the client refuses.</summary>
    public static BatchPlan ForBatch(IReadOnlyList<NewJob> jobs, BatchOptions? options = null)
    {
        var (batch, all) = WorkflowClient.PrepareBatch(jobs, options);
        return new BatchPlan(batch, all, null);
    }

    /// <summary>The plan of a DAG workflow; an <see cref="ArgumentException"/> for what the client refuses (cycles, unknown steps).</summary>
    public static BatchPlan ForWorkflow(WorkflowBuilder workflow)
    {
        var (batch, jobs) = WorkflowClient.PrepareWorkflow(workflow);
        return new BatchPlan(batch, jobs, batch.Workflow!.Steps.ToDictionary(static s => s.Name, static s => s.JobId, StringComparer.Ordinal));
    }
}
