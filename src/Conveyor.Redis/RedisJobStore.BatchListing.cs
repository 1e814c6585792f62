using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    // A tenant's batches are listed from the sorted set of its batch ids by creation (RedisKeys.BatchListing), every
    // tenant's from the sorted set of all batch ids (RedisKeys.EveryTenantBatchListing), on the coordination slot with the batches themselves: batch creation adds to it in the same script, the purge of
    // an expired batch removes from it in the same script. A page is read in calls that scan at most
    // ListScanBudget entries each, so that a state filter that few batches match never blocks Redis long.
    /// <inheritdoc />
    public async ValueTask<BatchPage> ListBatchesAsync(BatchQuery query, CancellationToken cancellationToken)
    {
        var cursor = BatchListing.Check(query);
        var positionCreatedAt = cursor is { } c ? RedisTime.Format(c.CreatedAtUnixMicroseconds) : string.Empty;
        var positionId = cursor?.JobId ?? string.Empty;
        var read = new List<BatchInfo>(Math.Min(query.Limit + 1, 128));
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            while (read.Count <= query.Limit)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = (RedisResult[])(await EvaluateAsync(
                    db,
                    RedisScript.BatchList,
                    [query.Tenant is { } tenant ? _keys.BatchListing(tenant) : _keys.EveryTenantBatchListing],
                    [
                        _keys.BatchPrefix, positionCreatedAt, positionId, query.Limit + 1 - read.Count, ListScanBudget,
                        query.State?.ToStorageName() ?? string.Empty, query.WorkflowsOnly ? "1" : "0",
                    ]).ConfigureAwait(false))!;
                for (var i = 3; i < result.Length; i++)
                {
                    var pair = (RedisResult[])result[i]!;
                    read.Add(ReadBatch((string)pair[0]!, JobRecord.Fields((RedisResult[])pair[1]!)));
                }

                if ((int)result[0] == 1)
                {
                    break;
                }

                positionCreatedAt = (string)result[1]!;
                positionId = (string)result[2]!;
            }

            return BatchListing.Page(read, query.Limit);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }
}
