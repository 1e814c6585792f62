using System.Globalization;
using Conveyor.Storage;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    public async ValueTask<bool> SaveStepAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(step);
        JobStep.Validate(step.Name, step.Result.Length);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queue = _leasedQueues.TryGetValue(jobId, out var known) ? known : await FindQueueAsync(db, jobId).ConfigureAwait(false);
            if (queue is null)
            {
                return false;
            }

            var result = await EvaluateQueueAsync(
                db, RedisScript.SaveStep, QueueKeys(queue), jobId, leaseToken, step.Name, step.Attempt,
                RedisTime.Format(RedisTime.ToMicros(step.CompletedAt)), step.Result).ConfigureAwait(false);
            return (int)result == 1;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<JobStep>?> GetStepsAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (await FindQueueAsync(db, jobId).ConfigureAwait(false) is not { } queue)
            {
                return null;
            }

            var keys = QueueKeys(queue);
            var batch = db.CreateBatch();
            var owner = batch.HashGetAsync(keys.Job(jobId), "tn");
            var fields = batch.HashGetAllAsync(keys.Steps(jobId));
            batch.Execute();
            if ((string?)await owner.ConfigureAwait(false) != tenant)
            {
                return null;
            }

            var steps = new List<(long Ord, JobStep Step)>();
            foreach (var field in await fields.ConfigureAwait(false))
            {
                if (field.Name.IsNullOrEmpty)
                {
                    continue;
                }

                // ord:attempt:completed-at:result, the result last since it may hold any byte.
                var value = (byte[])field.Value!;
                var ord = Field(value, 0, out var next);
                var attempt = Field(value, next, out next);
                var completedAt = Field(value, next, out next);
                steps.Add((ord, new JobStep(field.Name!, (int)attempt, value.AsMemory(next), RedisTime.FromMicros(completedAt))));
            }

            steps.Sort((a, b) => a.Ord.CompareTo(b.Ord));
            return [.. steps.Select(s => s.Step)];
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>The decimal number at <paramref name="start"/> up to the next ':'; <paramref name="next"/> is after it.</summary>
    private static long Field(byte[] value, int start, out int next)
    {
        var end = Array.IndexOf(value, (byte)':', start);
        next = end + 1;
        return long.Parse(value.AsSpan(start, end - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }
}
