namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    public ValueTask<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken)
    {
        var cursor = BatchListing.Check(query);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            // Batches are few next to jobs (one record per batch, kept for its retention): a sort per page is enough here.
            var read = _batches.Values
                .Where(b => (query.Tenant is null || string.Equals(b.Tenant, query.Tenant, StringComparison.Ordinal))
                    && (query.State is not { } state || b.State == state)
                    && (!query.WorkflowsOnly || b.Workflow is not null))
                .Select(static b => (Key: new ListingKey(JobCursor.ToUnixMicroseconds(b.CreatedAt), b.Id), Batch: b))
                .Where(b => cursor is not { } after || b.Key.CompareTo(new ListingKey(after.CreatedAtUnixMicroseconds, after.JobId)) > 0)
                .OrderBy(static b => b.Key)
                .Take(query.Limit + 1)
                .Select(static b => b.Batch.ToInfo())
                .ToList();
            return ValueTask.FromResult(BatchListing.Page(read, query.Limit));
        }
    }
}
