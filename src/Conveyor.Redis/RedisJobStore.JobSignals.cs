using System.Globalization;
using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    public async ValueTask<JobSignalWait> AwaitSignalAsync(string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(reason);
        JobSignal.ValidateNames(names, recordTimeout);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queue = _leasedQueues.TryGetValue(jobId, out var known) ? known : await FindQueueAsync(db, jobId).ConfigureAwait(false);
            if (queue is null)
            {
                return new JobSignalWait(JobSignalWaitOutcome.LeaseLost);
            }

            RedisValue[] arguments = [jobId, leaseToken, RedisTime.Format(RedisTime.ToMicros(until)), RedisTime.Format(NowMicros()), reason, recordTimeout ? "1" : "0", .. names.Select(name => (RedisValue)JobSignal.StepName(name))];
            var result = (RedisResult[])(await EvaluateQueueAsync(db, RedisScript.AwaitSignal, QueueKeys(queue), arguments).ConfigureAwait(false))!;
            var outcome = (JobSignalWaitOutcome)(int)result[0];
            switch (outcome)
            {
                case JobSignalWaitOutcome.Parked:
                    _leasedQueues.TryRemove(jobId, out _);
                    return new JobSignalWait(outcome);
                case JobSignalWaitOutcome.Delivered:
                    // ord:attempt:completed-at:payload, as GetStepsAsync reads a step.
                    var value = (byte[])result[1]!;
                    Field(value, 0, out var next);
                    Field(value, next, out next);
                    Field(value, next, out next);
                    return new JobSignalWait(outcome, value.AsMemory(next));
                default:
                    return new JobSignalWait(outcome);
            }
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<JobSignalResult> SignalAsync(string tenant, string jobId, string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        JobSignal.Validate(name, payload.Length);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (await FindQueueAsync(db, jobId).ConfigureAwait(false) is not { } queue)
            {
                return JobSignalResult.NotFound;
            }

            if (_replication.AnyShort)
            {
                await EnsureWritableAsync([QueueKeys(queue).Pending]).ConfigureAwait(false);
            }

            var now = _time.GetUtcNow();
            var connectionChanges = _replication.ConnectionChanges;
            var result = (JobSignalResult)(int)await EvaluateQueueAsync(
                db, RedisScript.Signal, QueueKeys(queue), jobId, tenant, JobSignal.StepName(name), JobSignal.WaitStepName(name),
                payload, RedisTime.Format(RedisTime.ToMicros(now)), _wakeUp, now.UtcTicks.ToString(CultureInfo.InvariantCulture),
                JobSignal.WaitReasonStart, JobSignal.QuotedName(name), JobSignal.WaitReasonUntil).ConfigureAwait(false);
            if (_replication.Enabled)
            {
                await EnsureReplicatedAsync([QueueKeys(queue).Pending], connectionChanges).ConfigureAwait(false);
            }

            if (result == JobSignalResult.Resumed)
            {
                SignalJobsReady();
            }

            return result;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }
}
