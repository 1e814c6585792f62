using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    private const int ListScanBudget = 2000;

    /// <inheritdoc />
    public async ValueTask<JobInfo?> GetAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (await FindQueueAsync(db, jobId).ConfigureAwait(false) is not { } queue)
            {
                return null;
            }

            var entries = await db.HashGetAllAsync(QueueKeys(queue).Job(jobId)).ConfigureAwait(false);
            if (entries.Length == 0)
            {
                return null;
            }

            var job = JobRecord.Read(jobId, queue, JobRecord.Fields(entries));
            return job.Tenant == tenant ? job : null;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Each queue keeps a per-tenant index by created-at; list.lua reads one queue's part (pipelined over the
    /// queues) and <see cref="RedisListing"/> merges them. A page costs what it scans: a filter that matches few
    /// jobs scans more, in calls of at most <see cref="ListScanBudget"/> entries so that Redis is never blocked long.
    /// </remarks>
    public async ValueTask<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, JobQuery.MaxLimit);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            JobCursor? cursor = null;
            if (query.Cursor is not null)
            {
                if (!JobCursor.TryDecode(query.Cursor, out var decoded))
                {
                    throw new ArgumentException("The cursor is not one this store returned.", nameof(query));
                }

                cursor = decoded;
            }

            string[] queues;
            if (query.Queue is not null)
            {
                queues = QueueName.IsValid(query.Queue) ? [query.Queue] : [];
            }
            else
            {
                queues = await QueueNamesAsync(db).ConfigureAwait(false);
            }

            var listing = new RedisListing(query, cursor, await ListingPartsAsync(db, queues, query.Tenant).ConfigureAwait(false));
            var errorFilter = (query.ErrorContains is { } error ? JobQuery.FoldAsciiCase(error) : string.Empty);
            var createdAfter = query.CreatedAfter is { } after ? RedisTime.Format(RedisTime.ToMicros(after)) : string.Empty;
            var createdBefore = query.CreatedBefore is { } before ? RedisTime.Format(RedisTime.ToMicros(before)) : string.Empty;
            while (listing.NextScans() is { Count: > 0 } scans)
            {
                var batch = db.CreateBatch();
                var tasks = scans.Select(scan => EvaluateQueueAsync(
                    batch,
                    RedisScript.List,
                    QueueKeys(scan.Queue),
                    scan.Tenant,
                    scan.PositionCreatedAt,
                    scan.PositionId,
                    listing.Wanted(scan),
                    ListScanBudget,
                    query.State?.ToStorageName() ?? string.Empty,
                    query.Type ?? string.Empty,
                    errorFilter,
                    createdAfter,
                    createdBefore,
                    query.BatchId ?? string.Empty)).ToArray();
                batch.Execute();
                for (var i = 0; i < scans.Count; i++)
                {
                    var result = (RedisResult[])(await tasks[i].ConfigureAwait(false))!;
                    var matches = new List<JobInfo>(result.Length - 3);
                    for (var j = 3; j < result.Length; j++)
                    {
                        var pair = (RedisResult[])result[j]!;
                        matches.Add(JobRecord.Read((string)pair[0]!, scans[i].Queue, JobRecord.Fields((RedisResult[])pair[1]!)));
                    }

                    listing.Add(scans[i], (int)result[0] == 1, (string)result[1]!, (string)result[2]!, matches);
                }
            }

            return listing.Page();
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// The (queue, tenant) listings a query reads: the tenant's in each queue, or for every tenant (null) each tenant
    /// that the queue's set of tenants names (one pipelined round trip).
    /// </summary>
    private async Task<List<(string Queue, string Tenant)>> ListingPartsAsync(IDatabase db, string[] queues, string? tenant)
    {
        if (tenant is not null)
        {
            return [.. queues.Select(q => (q, tenant))];
        }

        var batch = db.CreateBatch();
        var members = Array.ConvertAll(queues, q => batch.SetMembersAsync(QueueKeys(q).Tenants));
        batch.Execute();
        var parts = new List<(string Queue, string Tenant)>();
        for (var i = 0; i < queues.Length; i++)
        {
            foreach (var name in await members[i].ConfigureAwait(false))
            {
                parts.Add((queues[i], (string)name!));
            }
        }

        return parts;
    }

    /// <inheritdoc />
    public ValueTask<JobCommandResult> CancelAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        CommandAsync(RedisScript.Cancel, tenant, jobId, _keys.CancelChannel.ToString());

    /// <inheritdoc />
    public ValueTask<JobCommandResult> RequeueAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        CommandAsync(RedisScript.Requeue, tenant, jobId, _wakeUp);

    /// <inheritdoc />
    public async ValueTask<JobCommandResult> DeleteAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (await FindQueueAsync(db, jobId).ConfigureAwait(false) is not { } queue)
            {
                return JobCommandResult.NotFound;
            }

            var result = (RedisResult[])(await EvaluateQueueAsync(db, RedisScript.Delete, QueueKeys(queue), jobId, tenant, RedisTime.Format(NowMicros())).ConfigureAwait(false))!;
            var outcome = (JobCommandResult)(int)result[0];
            if (outcome == JobCommandResult.Done)
            {
                var cleanup = new DeletedJobsCleanup(this, db);
                cleanup.Forget(queue, jobId, tenant, (string?)result[1], (string?)result[2]);
                await cleanup.ExecuteAsync().ConfigureAwait(false);
            }

            return outcome;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    private async ValueTask<JobCommandResult> CommandAsync(RedisScript script, string tenant, string jobId, string channel)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (await FindQueueAsync(db, jobId).ConfigureAwait(false) is not { } queue)
            {
                return JobCommandResult.NotFound;
            }

            var result = await EvaluateQueueAsync(db, script, QueueKeys(queue), jobId, tenant, RedisTime.Format(NowMicros()), channel).ConfigureAwait(false);
            var outcome = (JobCommandResult)(int)result;
            if (outcome == JobCommandResult.Done && script == RedisScript.Requeue)
            {
                SignalJobsReady();
            }

            return outcome;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<QueueStats>> GetQueueStatsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var queues = await QueueNamesAsync(db).ConfigureAwait(false);
            var batch = db.CreateBatch();
            var tasks = queues.Select(q => EvaluateQueueAsync(batch, RedisScript.QueueStats, QueueKeys(q))).ToArray();
            batch.Execute();
            var stats = new List<QueueStats>(queues.Length);
            for (var i = 0; i < queues.Length; i++)
            {
                var v = (RedisValue[])(await tasks[i].ConfigureAwait(false))!;
                var counts = new long[9];
                for (var j = 0; j < 9; j++)
                {
                    counts[j] = (long)v[j];
                }

                var waiting = v.Length > 10 ? (long)v[10] : 0;
                if (counts[0] == 0 && counts.Skip(1).All(c => c == 0) && waiting == 0)
                {
                    continue;
                }

                stats.Add(new QueueStats
                {
                    Queue = queues[i],
                    Paused = counts[0] == 1,
                    Scheduled = counts[1],
                    Pending = counts[2],
                    Active = counts[3],
                    Retrying = counts[4],
                    Succeeded = counts[5],
                    Partial = counts[6],
                    Failed = counts[7],
                    Cancelled = counts[8],
                    Waiting = waiting,
                    OldestPendingSince = RedisTime.Instant(v[9]),
                });
            }

            return stats;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken)
    {
        EnsureQueueName(queue);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var batch = db.CreateBatch();
            var tasks = new List<Task> { batch.StringSetAsync(QueueKeys(queue).Paused, "1"), batch.SetAddAsync(_keys.Queues, queue) };
            batch.Execute();
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken)
    {
        EnsureQueueName(queue);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (await db.KeyDeleteAsync(QueueKeys(queue).Paused).ConfigureAwait(false))
            {
                await db.PublishAsync(_keys.NotifyChannel, _instanceId).ConfigureAwait(false);
                SignalJobsReady();
            }
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }
}
