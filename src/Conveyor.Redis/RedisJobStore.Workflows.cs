using Conveyor.Storage;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    private const string WorkflowsNotSupported = "Continuations and batches are not available on the Redis store yet; use the SQLite or in-memory store for them.";

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult> CreateBatchAsync(NewBatch batch, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        throw new NotSupportedException(WorkflowsNotSupported);

    /// <inheritdoc />
    public ValueTask<EnqueueAllResult?> AddToBatchAsync(string batchId, string tenant, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        throw new NotSupportedException(WorkflowsNotSupported);

    /// <inheritdoc />
    public ValueTask<BatchInfo?> GetBatchAsync(string batchId, string tenant, CancellationToken cancellationToken) =>
        throw new NotSupportedException(WorkflowsNotSupported);

    /// <inheritdoc />
    public ValueTask<bool> CancelBatchAsync(string batchId, string tenant, CancellationToken cancellationToken) =>
        throw new NotSupportedException(WorkflowsNotSupported);

    /// <summary>Refuses a job this store cannot keep waiting, rather than run it at once.</summary>
    private static void EnsureNoWorkflow(NewJob job)
    {
        if (job.HasFlow)
        {
            throw new NotSupportedException(WorkflowsNotSupported);
        }
    }
}
