using Conveyor.Storage;

namespace Conveyor;

/// <summary>What <see cref="IWorkflowClient.StartBatchAsync"/> did: the batch's id and whether its jobs were stored (all or none).</summary>
/// <param name="BatchId">The batch's id; the batch exists only when <see cref="Jobs"/> says every job was stored.</param>
/// <param name="Jobs">The members' results (in the order given), then the callbacks' (success, complete).</param>
public sealed record BatchEnqueueResult(string BatchId, EnqueueAllResult Jobs)
{
    /// <summary>True when the batch and all its jobs were stored.</summary>
    public bool Created => Jobs.AllStored;
}
