namespace Conveyor.Storage;

/// <summary>
/// What every store does the same around <see cref="IWorkflowStore.ListBatchesAsync"/> (compiled into each store):
/// check the query, read its cursor, and cut the page. A batch listing's cursor is a <see cref="JobCursor"/> whose id
/// is a batch's, so that one keyset spelling serves every listing.
/// </summary>
internal static class BatchListing
{
    /// <summary>The (created-at, id) position the query's cursor names (the page holds what is older), or null for the first page.</summary>
    /// <exception cref="ArgumentException">A limit out of range, or a cursor that no batch listing returned.</exception>
    public static JobCursor? Check(BatchQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, BatchQuery.MaxLimit, nameof(query));
        if (query.Cursor is null)
        {
            return null;
        }

        return JobCursor.TryDecode(query.Cursor, out var cursor) && BatchId.IsValid(cursor.JobId)
            ? cursor
            : throw new ArgumentException("The cursor is not one a batch listing returned.", nameof(query));
    }

    /// <summary>
    /// The page of up to <paramref name="limit"/> batches of <paramref name="read"/>, which holds one more when there is
    /// a next page (every store reads limit + 1), with the cursor after its last batch.
    /// </summary>
    public static BatchPage Page(List<BatchInfo> read, int limit)
    {
        if (read.Count <= limit)
        {
            return new BatchPage(read, null);
        }

        read.RemoveRange(limit, read.Count - limit);
        var last = read[^1];
        return new BatchPage(read, new JobCursor(JobCursor.ToUnixMicroseconds(last.CreatedAt), last.Id).Encode());
    }
}
