using System.Globalization;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    /// <remarks>
    /// trim.lua on the queue's slot takes the oldest jobs beyond the caps from the queue's two finish-ordered sets
    /// (<c>finished:succeeded</c>, <c>finished:unsuccessful</c>) and deletes each with its state and tenant entries;
    /// then one pipelined round trip drops their id lookups and unique keys, which live outside the slot. A batch
    /// costs O(log n) per job deleted, whatever the queue holds.
    /// </remarks>
    public async ValueTask<int> TrimFinishedAsync(string queue, int? keepSucceeded, int? keepFailed, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(keepSucceeded ?? 0, nameof(keepSucceeded));
        ArgumentOutOfRangeException.ThrowIfNegative(keepFailed ?? 0, nameof(keepFailed));
        if (limit == 0 || (keepSucceeded is null && keepFailed is null))
        {
            return 0;
        }

        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var result = await EvaluateQueueAsync(db, RedisScript.Trim, QueueKeys(queue), [Count(keepSucceeded), Count(keepFailed), limit]).ConfigureAwait(false);
            var values = (RedisValue[])result!;
            if (values.Length == 0)
            {
                return 0;
            }

            var cleanup = new DeletedJobsCleanup(this, db);
            for (var i = 0; i + 4 <= values.Length; i += 4)
            {
                cleanup.Forget(queue, (string)values[i]!, (string?)values[i + 1], (string?)values[i + 2], (string?)values[i + 3]);
            }

            await cleanup.ExecuteAsync().ConfigureAwait(false);
            return values.Length / 4;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    private static RedisValue Count(int? keep) => keep is { } n ? n.ToString(CultureInfo.InvariantCulture) : string.Empty;
}
