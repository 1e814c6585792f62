using Conveyor.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // A dequeue commits without waiting for its WAL to reach disk (synchronous_commit = off for its own transaction
    // only; set_config(…, true) ends with it). Waiting for that flush made every fetch cost an fsync. What a crash
    // of the database server can lose is the last fraction of a second of leases: those jobs are pending again
    // after recovery and are dequeued once more, which at-least-once delivery allows. A relaxed commit is never
    // reordered before an earlier durable one, so an enqueue or acknowledgement the dequeue saw is on disk first.
    // Enqueues and acknowledgements stay durable. Joined as a one-row relation, so no extra statement is sent.
    private const string RelaxedCommit = "(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed_commit";

    // Leases pending jobs through the dequeue() function of migration 0001 (two passes over the quota list,
    // FOR UPDATE SKIP LOCKED per queue). $1 queues text[], $2 quotas int[], $3 limit, $4 owner (server id),
    // $5 now, $6 lease expiry. Returns the leased jobs, first pass then second, FIFO within each queue.
    private const string DequeueTemplate =
        "SELECT " + JobRows.LeasedColumns + " FROM " + RelaxedCommit + ", :\"schema\".dequeue($1, $2, $3, $4, $5, $6)";

    // The same for a request that names one queue, where both passes take from that queue, so they are one
    // LIMIT: a plain statement, cheaper than the function's loop. $1 queue, $2 limit, $3 owner, $4 now,
    // $5 lease expiry. Returns the leased jobs, FIFO.
    private const string DequeueOneQueueTemplate = $$"""
        WITH {{OneQueuePending}} LIMIT $2 {{OneQueueLeased}}
        SELECT {{JobRows.LeasedColumns}} FROM {{RelaxedCommit}}, leased ORDER BY enqueued_at, seq
        """;

    // The CTEs "picked" and "leased" of both one-queue dequeues, around the LIMIT each sets: the first pending jobs of
    // queue $1 (none while it is paused), locked FOR UPDATE SKIP LOCKED, then leased to owner $3 at $4 until $5, each
    // started no earlier than it became pending (a release committed by another server may carry a later time than
    // $4, taken when this call was sent; migration 0037 does the same in the dequeue functions).
    private const string OneQueuePending = """
        picked AS (
            SELECT j.id FROM :"schema".jobs j
            WHERE j.state = 'pending' AND j.queue = $1
              AND NOT EXISTS (SELECT 1 FROM :"schema".queues q WHERE q.name = $1 AND q.paused)
            ORDER BY j.enqueued_at, j.seq
        """;

    private const string OneQueueLeased = """
            FOR UPDATE SKIP LOCKED
        ), leased AS (
            UPDATE :"schema".jobs j
            SET state = 'active', attempts = j.attempts + 1, started_at = greatest($4, j.enqueued_at), updated_at = greatest($4, j.enqueued_at),
                lease_token = nextval(':"schema".lease_tokens'), lease_owner = $3, lease_expires_at = $5,
                cancel_requested = false
            FROM picked
            WHERE j.id = picked.id
            RETURNING j.*
        )
        """;

    // The dequeue of a server with concurrency limits, through dequeue_limited() of migration 0009: the same two passes,
    // with the limited queues locked, counted and chosen from in one call. $1–$6 as DequeueTemplate; $7 limit queues
    // text[], $8 limit job types text[] (null for every type), $9 per tenant boolean[], $10 maxima int[], $11 depth.
    private const string DequeueLimitedTemplate =
        "SELECT " + JobRows.LeasedColumns + " FROM " + RelaxedCommit + ", :\"schema\".dequeue_limited($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

    // The dequeue of one queue under concurrency limits, after the queue's advisory lock (LimitLockTemplate, the same
    // lock dequeue_limited() takes, in the same batch and so the same transaction): this statement's snapshot is taken
    // once the lock is held, so its count sees every lease committed before, and "counted" is exact but for jobs
    // finishing meanwhile (which only errs on the safe side). Every limit counts a part of the queue's active jobs, so:
    // - far from the limits (the running jobs plus this dequeue's at most $2 within the smallest maximum $6), no limit
    //   can be reached: the jobs are taken as DequeueOneQueueTemplate takes them;
    // - when every limit of the queue is over the whole queue ($12: no job type, not per tenant), the free slots are the
    //   smallest maximum less the running jobs, whatever the jobs: the same statement takes at most that many (none at a
    //   hit limit), one plain statement and no function call, near the limit as far from it;
    // - otherwise, near a limit, the statement calls dequeue_limited() instead, which counts per limit and partition and
    //   chooses job by job (never both branches: the one row of "far" decides each).
    // $1–$5 as DequeueOneQueueTemplate; $6 the smallest maximum; $7–$11 the queue's limits as in DequeueLimitedTemplate;
    // $12 true when all of them are over the whole queue.
    private const string DequeueOneLimitedTemplate = $$"""
        WITH counted AS (
            SELECT count(*) AS running FROM :"schema".jobs a WHERE a.state = 'active' AND a.queue = $1
        ), far AS (
            SELECT running + $2 <= $6 OR $12 AS alone,
                   CASE WHEN running + $2 <= $6 THEN $2 WHEN $12 THEN greatest(least($2, $6 - running), 0) ELSE 0 END AS take
            FROM counted
        ), {{OneQueuePending}} LIMIT (SELECT take FROM far) {{OneQueueLeased}}
        (SELECT {{JobRows.LeasedColumns}} FROM {{RelaxedCommit}}, leased ORDER BY enqueued_at, seq)
        UNION ALL
        (SELECT {{JobRows.LeasedColumns}} FROM {{RelaxedCommit}},
             :"schema".dequeue_limited(ARRAY[$1], ARRAY[$2], $2, $3, $4, $5, $7, $8, $9, $10, $11)
         WHERE NOT (SELECT alone FROM far))
        """;

    // The advisory lock of one limited queue until the end of the transaction (the key dequeue_limited() builds), and no
    // bitmap scans for the rest of that transaction. The counts of active jobs that follow must not cost more as jobs
    // finish: every finished job leaves a dead entry in the active jobs' indexes until a vacuum. A plain index scan
    // marks the entries it finds dead (LP_DEAD) and later scans skip them, so a count reads the running jobs and those
    // finished since the last dequeue; a bitmap scan marks nothing and visits every dead entry's heap page each time.
    // The planner picked one from the table's statistics (a generic plan estimating few active rows): measured 15,000
    // dead entries and 960 heap pages per count at the end of a 30,000-job drain. The setting is read when the next
    // statement is planned (a prepared statement's generic plan is made under it too) and ends with the transaction.
    private const string LimitLockTemplate = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), " + NoBitmapScans;

    // The same setting ahead of dequeue_limited() and dequeue_fair() with limits, whose counts are planned inside the call.
    private const string NoBitmapScansTemplate = "SELECT " + NoBitmapScans;

    private const string NoBitmapScans = "set_config('enable_bitmapscan', 'off', true)";

    // Ends attempts whose job is still active under the given lease token, in one statement for the whole batch.
    // Outcomes (AckOutcome): 0 succeeded, 1 partial, 2 retry, 3 failed, 4 cancelled, 5 released, 6 snoozed. A job
    // whose cancellation was requested must not run again, however its attempt ended: a retry, release or snooze becomes a
    // cancellation (FOR UPDATE reads the latest cancel_requested; rows are locked in id order, as lease extension
    // locks them, so the two never deadlock). Finished jobs release their unique key and
    // start their retention; a released job goes back to pending without counting the attempt, with progress 0 and
    // its enqueued_at kept (its place at the head of the queue, as a recovered job), returned_at set to now when its
    // handler ran (it waits from now: the time it ran is no queue wait, migration 0039; one that never started keeps its
    // wait), and its queue is NOTIFYed; a
    // snoozed one goes to scheduled until its due time, without counting the attempt, its reason kept (any other outcome
    // clears it). A release or snooze that leaves no attempt clears started_at too (the job never started; after an
    // attempt that counted, the start stays this lease's, no earlier one being kept). Every acknowledged job leaves the
    // active state, so a job of a queue under a concurrency limit frees a slot: that queue is NOTIFYed too, in the same
    // transaction (delivered when it commits, so never before the slot is free), and a server whose dequeue was held back
    // by the limit takes the next job without waiting for its poll. That NOTIFY carries this store's echo mark: the
    // acknowledgement batcher wakes this process's fetcher itself.
    // A finished job's flow flag is cleared here, as the row trigger jobs_flow_finishing (migration 0019) would clear
    // it, so that trigger is not called once per workflow job (the statement trigger reads the flag from the old rows).
    // Each job is found by its key: its state is compared as `state || ''`, which no index on state serves. Compared
    // plainly, the plan made once (AcknowledgementPlan) on statistics taken while no job ran, which count one active job,
    // read the active jobs through jobs_lease_idx or jobs_state_created_idx and matched each with every acknowledgement:
    // an acknowledgement's cost grew with the jobs running anywhere (a batch's 100 running members, 20 acknowledged:
    // 2,000 comparisons, 0.6 ms of the statement's 1.1).
    // $1 ids text[], $2 tokens bigint[], $3 outcomes int[], $4 retry-at or snooze-until timestamptz[] (for a release:
    // not null when its handler ran, JobAcknowledgement.AttemptRan), $5 errors to
    // append jsonb[], $6 results bytea[], $7 result URLs text[], $8 now, $9 channel, $10 snooze reasons text[], $11 the
    // echo mark, $12 the queues under a concurrency limit text[].
    // Returns the number of acknowledgements applied.
    internal const string AcknowledgeTemplate = """
        WITH acked AS (
            SELECT a.*, CASE WHEN j.cancel_requested AND a.outcome IN (2, 5, 6) THEN 4 ELSE a.outcome END AS effective
            FROM unnest($1::text[], $2::bigint[], $3::int[], $4::timestamptz[], $5::jsonb[], $6::bytea[], $7::text[], $10::text[])
                AS a(id, token, outcome, retry_at, errors, result, result_url, snooze_reason)
            JOIN :"schema".jobs j ON j.id = a.id AND j.lease_token = a.token AND j.state || '' = 'active'
            ORDER BY j.id
            FOR UPDATE OF j
        ), done AS (
            UPDATE :"schema".jobs j SET
                state = CASE a.effective WHEN 0 THEN 'succeeded' WHEN 1 THEN 'partial' WHEN 2 THEN 'retrying'
                                         WHEN 3 THEN 'failed' WHEN 4 THEN 'cancelled' WHEN 6 THEN 'scheduled'
                                         ELSE 'pending' END,
                progress = CASE WHEN a.effective IN (0, 1) THEN 100 WHEN a.effective = 5 THEN 0 ELSE j.progress END,
                result = CASE WHEN a.effective IN (0, 1) THEN a.result ELSE j.result END,
                result_url = CASE WHEN a.effective IN (0, 1) THEN a.result_url ELSE j.result_url END,
                errors = j.errors || a.errors,
                attempts = CASE WHEN a.outcome IN (5, 6) THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
                started_at = CASE WHEN a.outcome IN (5, 6) AND j.attempts <= 1 THEN NULL ELSE j.started_at END,
                scheduled_at = CASE WHEN a.effective IN (2, 6) THEN a.retry_at ELSE j.scheduled_at END,
                returned_at = CASE WHEN a.effective = 5 AND a.retry_at IS NOT NULL THEN $8 ELSE j.returned_at END,
                snooze_reason = CASE WHEN a.effective = 6 THEN a.snooze_reason END,
                completed_at = CASE WHEN a.finished THEN $8 END,
                expires_at = CASE WHEN a.finished THEN $8 + CASE a.effective WHEN 0 THEN j.retention WHEN 4 THEN coalesce(j.cancelled_retention, j.retention)
                                                                ELSE coalesce(j.failed_retention, j.retention) END END,
                unique_held = j.unique_held AND NOT a.finished,
                flow = j.flow AND NOT a.finished,
                lease_token = NULL,
                lease_owner = NULL,
                lease_expires_at = NULL,
                cancel_requested = false,
                updated_at = $8
            FROM (SELECT acked.*, acked.effective IN (0, 1, 3, 4) AS finished FROM acked) a
            WHERE j.id = a.id
            RETURNING j.queue, a.effective
        ), notified AS (
            SELECT pg_notify($9, q.queue || CASE WHEN q.released THEN '' ELSE $11 END)
            FROM (SELECT queue, bool_or(effective = 5) AS released FROM done WHERE effective = 5 OR queue = ANY ($12) GROUP BY queue) q
        )
        SELECT count(*), (SELECT count(*) FROM notified) FROM done
        """;

    // The hand-off of an acknowledgement (AcknowledgeAndTakeReleasedAsync), two statements around the acknowledging one in
    // its transaction. Before it, what the server would take: flow_resolve_links() of migration 0027 leases a job it
    // releases in the same UPDATE when the job's queue is among $1 (not paused, nothing pending in it) and fewer than $2
    // are taken, to owner $3 until $4, and lists the row version it wrote in conveyor.flow_taken (emptied here first).
    // After it, those rows (a TID scan each), still active under that owner, as DequeueTemplate returns them. Not
    // relaxed: the acknowledgement's commit stays durable. The request also sets what AcknowledgementPlanTemplate sets.
    private const string TakeRequestTemplate =
        "SELECT set_config('conveyor.flow_take', jsonb_build_object('queues', $1::text[], 'limit', $2::integer, 'owner', $3::text, 'until', $4::timestamptz)::text, true), " +
        "set_config('conveyor.flow_taken', '', true), " + AcknowledgementPlan;

    // Ahead of the acknowledgement, in its transaction: its prepared statement runs with the plan made once, and that
    // plan finds each job by key. The plan cache compares the generic plan's cost, made for arrays of unknown length,
    // with a custom plan's for the one or few acknowledgements of a call; once the jobs table holds a few thousand rows
    // the custom plan is always cheaper, so every acknowledgement was planned again (0.3 ms of a 0.9 ms call,
    // bench/README "Workflows", --backlog) for the same plan: an index probe of jobs per acknowledgement. A plan made
    // once must not depend on the table's size when it was made (a new store's jobs table is empty, then a burst fills
    // it before autovacuum analyzes it: a hash join over a scan of jobs took 11-17 ms an acknowledgement of 30,000
    // jobs), so scans and hash or merge joins are off: only index probes remain. The triggers the acknowledgement fires
    // set what they need (migration 0028); the statements after it in the batch read by TID or by key.
    private const string AcknowledgementPlanTemplate = "SELECT " + AcknowledgementPlan;

    internal const string AcknowledgementPlan =
        "set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true), " +
        "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)";

    private const string TakenTemplate =
        "SELECT " + JobRows.LeasedColumns + " FROM unnest(nullif(current_setting('conveyor.flow_taken', true), '')::tid[]) AS taken (row_version) " +
        "JOIN :\"schema\".jobs ON jobs.ctid = taken.row_version " +
        "WHERE jobs.state = 'active' AND jobs.lease_owner = current_setting('conveyor.flow_take', true)::jsonb ->> 'owner' ORDER BY enqueued_at, seq";

    // $1 progress, $2 id, $3 lease token, $4 now. Returns the number of rows updated (0 or 1).
    private const string ReportProgressTemplate = """
        UPDATE :"schema".jobs SET progress = $1, updated_at = $4
        WHERE id = $2 AND state = 'active' AND lease_token = $3
        """;

    // The dequeue of a server with fair queues, through dequeue_fair() of migration 0012: the same two passes, fair
    // queues taken in turns between tenants (their jobs returned in turn order), limits applied as dequeue_limited()
    // applies them. $1–$6 as DequeueTemplate; $7 fair queues text[], $8 the last tenant served of each text[];
    // $9–$13 as $7–$11 of DequeueLimitedTemplate (empty arrays for no limits); $14 rounds.
    private const string DequeueFairTemplate =
        "SELECT " + JobRows.LeasedColumns + " FROM " + RelaxedCommit + ", :\"schema\".dequeue_fair($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

    // The queues under a concurrency limit as this store's last dequeue named them (NoteLimitedQueues).
    private LimitedQueues _limitedQueues = new([], []);

    private string DequeueFairSql => field ??= Sql(DequeueFairTemplate);

    private string DequeueSql => field ??= Sql(DequeueTemplate);

    private string DequeueOneQueueSql => field ??= Sql(DequeueOneQueueTemplate);

    private string DequeueLimitedSql => field ??= Sql(DequeueLimitedTemplate);

    private string DequeueOneLimitedSql => field ??= Sql(DequeueOneLimitedTemplate);

    private string AcknowledgeSql => field ??= Sql(AcknowledgeTemplate);

    private string TakenSql => field ??= Sql(TakenTemplate);

    private string ReportProgressSql => field ??= Sql(ReportProgressTemplate);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => DequeueCoreAsync(request, token), cancellationToken);

    private async ValueTask<IReadOnlyList<LeasedJob>> DequeueCoreAsync(DequeueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(request.Limit);
        if (request.Limit == 0 || request.Queues.Count == 0)
        {
            return [];
        }

        NoteLimitedQueues(request.ConcurrencyLimits);
        _signal.DequeueStarting();
        var now = Now();
        try
        {
            NpgsqlBatch batch;
            var limited = request.FairQueues.Count > 0 ? request.ConcurrencyLimits : LimitsOnRequestedQueues(request);
            if (request.FairQueues.Count > 0)
            {
                batch = DequeueFairBatch(request, now);
            }
            else if (limited.Count > 0 && request.Queues.Count == 1)
            {
                batch = DequeueOneLimitedBatch(request, limited, now);
            }
            else if (limited.Count > 0)
            {
                batch = DequeueLimitedBatch(request with { ConcurrencyLimits = limited }, now);
            }
            else if (request.Queues.Count == 1)
            {
                batch = DequeueBatch(DequeueOneQueueSql, out var command);
                command.Parameters.Add(P(request.Queues[0].Queue));
                command.Parameters.Add(P(request.Limit));
                command.Parameters.Add(P(request.ServerId));
                command.Parameters.Add(TimestampTz(now));
                command.Parameters.Add(TimestampTz(now + request.LeaseDuration));
            }
            else
            {
                var queues = new string[request.Queues.Count];
                var quotas = new int[request.Queues.Count];
                for (var i = 0; i < queues.Length; i++)
                {
                    queues[i] = request.Queues[i].Queue;
                    quotas[i] = request.Queues[i].Limit;
                }

                batch = DequeueBatch(DequeueSql, out var command);
                command.Parameters.Add(P(queues));
                command.Parameters.Add(P(quotas));
                command.Parameters.Add(P(request.Limit));
                command.Parameters.Add(P(request.ServerId));
                command.Parameters.Add(TimestampTz(now));
                command.Parameters.Add(TimestampTz(now + request.LeaseDuration));
            }

            await using var owned = batch;
            var jobs = new List<LeasedJob>(Math.Min(request.Limit, 256));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (batch.BatchCommands.Count > 1)
            {
                // The limited queue's lock or the setting before the dequeue: its one row is not a job.
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                jobs.Add(JobRows.ReadLeased(reader));
            }

            return jobs;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    private NpgsqlBatch DequeueFairBatch(DequeueRequest request, DateTimeOffset now)
    {
        var batch = DequeueLimitedBatch(request, now, DequeueFairSql, out var command);
        var fairQueues = new string[request.FairQueues.Count];
        var lastTenants = new string[request.FairQueues.Count];
        for (var i = 0; i < fairQueues.Length; i++)
        {
            fairQueues[i] = request.FairQueues[i].Queue;
            lastTenants[i] = request.FairQueues[i].LastTenant ?? "";
        }

        command.Parameters.Insert(6, P(fairQueues));
        command.Parameters.Insert(7, P(lastTenants));
        command.Parameters.Add(P(DequeueRequest.FairRounds));
        return batch;
    }

    /// <summary>
    /// Keeps the queues the request's concurrency limits name, for <see cref="AcknowledgeManyAsync"/>: the acknowledgement
    /// of one of their jobs frees a slot and tells the other servers. A server sends the limits in force with every
    /// dequeue, so the list follows them; the same list of rules (one reference until the limits change) is not read again.
    /// </summary>
    private void NoteLimitedQueues(IReadOnlyList<ConcurrencyLimitRule> limits)
    {
        var known = Volatile.Read(ref _limitedQueues);
        if (ReferenceEquals(known.Rules, limits) || (limits.Count == 0 && known.Queues.Length == 0))
        {
            return;
        }

        var queues = limits.Select(static rule => rule.Queue).Distinct(StringComparer.Ordinal).ToArray();
        Volatile.Write(ref _limitedQueues, new LimitedQueues(limits, queues));
    }

    /// <summary>The request's limits on the queues it names: a limit on a queue the request does not take from changes nothing.</summary>
    private static IReadOnlyList<ConcurrencyLimitRule> LimitsOnRequestedQueues(DequeueRequest request)
    {
        var limits = request.ConcurrencyLimits;
        if (limits.Count == 0)
        {
            return limits;
        }

        List<ConcurrencyLimitRule>? kept = null;
        foreach (var rule in limits)
        {
            foreach (var quota in request.Queues)
            {
                if (string.Equals(quota.Queue, rule.Queue, StringComparison.Ordinal))
                {
                    (kept ??= []).Add(rule);
                    break;
                }
            }
        }

        return kept is null ? [] : kept.Count == limits.Count ? limits : kept;
    }

    /// <summary>A one-queue request under limits: the queue's lock, then <see cref="DequeueOneLimitedTemplate"/>, in one round trip and one transaction.</summary>
    private NpgsqlBatch DequeueOneLimitedBatch(DequeueRequest request, IReadOnlyList<ConcurrencyLimitRule> limits, DateTimeOffset now)
    {
        var queue = request.Queues[0].Queue;
        var batch = _dataSource.CreateBatch();
        var lockCommand = new NpgsqlBatchCommand(LimitLockTemplate);
        lockCommand.Parameters.Add(Text($"conveyor.limits:{_options.Schema}:{queue}"));
        batch.BatchCommands.Add(lockCommand);
        var command = new NpgsqlBatchCommand(DequeueOneLimitedSql);
        batch.BatchCommands.Add(command);
        var types = new string?[limits.Count];
        var perTenant = new bool[limits.Count];
        var maxima = new int[limits.Count];
        var queues = new string[limits.Count];
        var smallest = int.MaxValue;
        var wholeQueue = true;
        for (var i = 0; i < limits.Count; i++)
        {
            wholeQueue &= limits[i].JobType is null && !limits[i].PerTenant;
            queues[i] = queue;
            types[i] = limits[i].JobType;
            perTenant[i] = limits[i].PerTenant;
            maxima[i] = limits[i].Max;
            smallest = Math.Min(smallest, limits[i].Max);
        }

        command.Parameters.Add(P(queue));
        command.Parameters.Add(P(request.Limit));
        command.Parameters.Add(P(request.ServerId));
        command.Parameters.Add(TimestampTz(now));
        command.Parameters.Add(TimestampTz(now + request.LeaseDuration));
        command.Parameters.Add(P(smallest));
        command.Parameters.Add(TextArray(queues));
        command.Parameters.Add(TextArray(types));
        command.Parameters.Add(P(perTenant));
        command.Parameters.Add(P(maxima));
        command.Parameters.Add(P(DequeueRequest.LimitedScanDepth));
        command.Parameters.Add(P(wholeQueue));
        return batch;
    }

    private NpgsqlBatch DequeueLimitedBatch(DequeueRequest request, DateTimeOffset now) => DequeueLimitedBatch(request, now, DequeueLimitedSql, out _);

    private NpgsqlBatch DequeueLimitedBatch(DequeueRequest request, DateTimeOffset now, string sql, out NpgsqlBatchCommand command)
    {
        var queues = new string[request.Queues.Count];
        var quotas = new int[request.Queues.Count];
        for (var i = 0; i < queues.Length; i++)
        {
            queues[i] = request.Queues[i].Queue;
            quotas[i] = request.Queues[i].Limit;
        }

        var limits = request.ConcurrencyLimits;
        var limitQueues = new string[limits.Count];
        var limitTypes = new string?[limits.Count];
        var perTenant = new bool[limits.Count];
        var maxima = new int[limits.Count];
        for (var i = 0; i < limits.Count; i++)
        {
            limitQueues[i] = limits[i].Queue;
            limitTypes[i] = limits[i].JobType;
            perTenant[i] = limits[i].PerTenant;
            maxima[i] = limits[i].Max;
        }

        var batch = DequeueBatch(sql, out command);
        if (limits.Count > 0)
        {
            batch.BatchCommands.Insert(0, new NpgsqlBatchCommand(NoBitmapScansTemplate));
        }

        command.Parameters.Add(P(queues));
        command.Parameters.Add(P(quotas));
        command.Parameters.Add(P(request.Limit));
        command.Parameters.Add(P(request.ServerId));
        command.Parameters.Add(TimestampTz(now));
        command.Parameters.Add(TimestampTz(now + request.LeaseDuration));
        command.Parameters.Add(TextArray(limitQueues));
        command.Parameters.Add(TextArray(limitTypes));
        command.Parameters.Add(P(perTenant));
        command.Parameters.Add(P(maxima));
        command.Parameters.Add(P(DequeueRequest.LimitedScanDepth));
        return batch;
    }

    /// <inheritdoc />
    public ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => AcknowledgeManyCoreAsync(acknowledgements, token), cancellationToken);

    private async ValueTask<int> AcknowledgeManyCoreAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken) =>
        (await AcknowledgeAsync(acknowledgements, next: null, cancellationToken).ConfigureAwait(false)).Applied;

    /// <inheritdoc />
    /// <remarks>
    /// One round trip and one transaction: the acknowledging statement, between one that names what this server takes
    /// and one that reads what it took. The workflow triggers lease a job they release in the UPDATE that releases it
    /// (migration 0027) when its queue is among <paramref name="next"/>'s, is not paused and has nothing pending (a released
    /// job is not taken ahead of older ones), up to its limit; any other stays pending and is notified. An acknowledgement
    /// that releases nothing leases nothing. With concurrency limits or fair queues in <paramref name="next"/> this store
    /// acknowledges only and returns no jobs.
    /// </remarks>
    public ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => AcknowledgeAndTakeReleasedCoreAsync(acknowledgements, next, token), cancellationToken);

    private async ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedCoreAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(next.Queues);
        var handOff = next.Limit > 0 && next.Queues.Count > 0 && next.ConcurrencyLimits.Count == 0 && next.FairQueues.Count == 0 ? next : null;
        return await AcknowledgeAsync(acknowledgements, handOff, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<AcknowledgeResult> AcknowledgeAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest? next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        if (acknowledgements.Count == 0)
        {
            return new AcknowledgeResult(0, []);
        }

        var n = acknowledgements.Count;
        var ids = new string[n];
        var tokens = new long[n];
        var outcomes = new int[n];
        var retryAts = new DateTime?[n];
        var errors = new string[n];
        var results = new byte[]?[n];
        var resultUrls = new string?[n];
        var snoozeReasons = new string?[n];
        var anyReleased = false;
        for (var i = 0; i < n; i++)
        {
            var ack = acknowledgements[i];
            ArgumentNullException.ThrowIfNull(ack, nameof(acknowledgements));
            ids[i] = ack.JobId;
            tokens[i] = ack.LeaseToken;
            outcomes[i] = (int)ack.Outcome;
            retryAts[i] = ack.Outcome switch
            {
                AckOutcome.Retry => (ack.RetryAt ?? Now()).UtcDateTime,
                AckOutcome.Snoozed => (ack.SnoozeUntil ?? Now()).UtcDateTime,
                AckOutcome.Released when ack.AttemptRan => Now().UtcDateTime,
                _ => null,
            };
            snoozeReasons[i] = ack.Outcome == AckOutcome.Snoozed ? JobRows.WithoutNul(ack.SnoozeReason) : null;
            errors[i] = JobRows.WriteErrors(ErrorsToAppend(ack));
            results[i] = ack.Result is { } result ? AsArray(result) : null;
            resultUrls[i] = JobRows.WithoutNul(ack.ResultUrl);
            anyReleased |= ack.Outcome == AckOutcome.Released;
        }

        try
        {
            var now = Now();
            await using var batch = WorkerBatch(AcknowledgeSql, out var command);
            command.Parameters.Add(TextArray(ids));
            command.Parameters.Add(P(tokens));
            command.Parameters.Add(P(outcomes));
            command.Parameters.Add(TimestampTzArray(retryAts));
            command.Parameters.Add(new NpgsqlParameter { Value = errors, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            command.Parameters.Add(new NpgsqlParameter { Value = results, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            command.Parameters.Add(TextArray(resultUrls));
            command.Parameters.Add(TimestampTz(now));
            command.Parameters.Add(Text(_jobsChannel));
            command.Parameters.Add(TextArray(snoozeReasons));
            command.Parameters.Add(Text(_notifier.EchoMark));
            command.Parameters.Add(TextArray(Volatile.Read(ref _limitedQueues).Queues));
            if (next is not null)
            {
                batch.BatchCommands.Insert(0, TakeRequestCommand(next, now));
                batch.BatchCommands.Insert(2, new NpgsqlBatchCommand(TakenSql));
            }
            else
            {
                batch.BatchCommands.Insert(0, new NpgsqlBatchCommand(AcknowledgementPlanTemplate));
            }

            // The same batch is one implicit transaction: the record ends with its acknowledgement. In key order, as
            // the begins lock them, so that batches of two servers never wait on each other in a cycle.
            foreach (var ack in acknowledgements.Where(a => a.IdempotencyKey is not null).OrderBy(a => a.IdempotencyKey, StringComparer.Ordinal))
            {
                batch.BatchCommands.Add(SettleIdempotencyKeyCommand(ack));
            }

            int applied;
            List<LeasedJob> leased = [];
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                applied = (int)reader.GetInt64(0);
                if (next is not null && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        leased.Add(JobRows.ReadLeased(reader));
                    }
                }
            }

            if (anyReleased && applied > 0)
            {
                _signal.Set();
            }

            return new AcknowledgeResult(applied, leased);
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary><see cref="TakeRequestTemplate"/> for <paramref name="next"/>: its queues, limit, server and lease.</summary>
    private NpgsqlBatchCommand TakeRequestCommand(DequeueRequest next, DateTimeOffset now)
    {
        var command = new NpgsqlBatchCommand(TakeRequestTemplate);
        command.Parameters.Add(P(next.Queues.Select(static q => q.Queue).ToArray()));
        command.Parameters.Add(P(next.Limit));
        command.Parameters.Add(Text(next.ServerId));
        command.Parameters.Add(TimestampTz(now + next.LeaseDuration));
        return command;
    }

    /// <inheritdoc />
    public ValueTask<bool> ReportProgressAsync(string jobId, long leaseToken, int progress, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ReportProgressCoreAsync(jobId, leaseToken, progress, token), cancellationToken);

    private async ValueTask<bool> ReportProgressCoreAsync(string jobId, long leaseToken, int progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentOutOfRangeException.ThrowIfNegative(progress);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(progress, 100);
        try
        {
            await using var batch = WorkerBatch(ReportProgressSql, out var command);
            command.Parameters.Add(P(progress));
            command.Parameters.Add(P(jobId));
            command.Parameters.Add(P(leaseToken));
            command.Parameters.Add(TimestampTz(Now()));
            return await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <summary>The item errors the handler recorded, then the error that ended the attempt (none for a release or a snooze).</summary>
    private static IReadOnlyList<JobError> ErrorsToAppend(JobAcknowledgement ack)
    {
        if (ack.Outcome == AckOutcome.Snoozed)
        {
            return [];
        }

        if (ack.Outcome == AckOutcome.Released || ack.Error is null)
        {
            return ack.ItemErrors;
        }

        // The items went wrong during the attempt, which ended with its error: that one is the job's last.
        return ack.ItemErrors.Count == 0 ? [ack.Error] : [.. ack.ItemErrors, ack.Error];
    }

    private sealed record LimitedQueues(IReadOnlyList<ConcurrencyLimitRule> Rules, string[] Queues);
}
