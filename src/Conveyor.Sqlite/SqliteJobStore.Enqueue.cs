using Conveyor.Sqlite.Internal;
using Conveyor.Storage;
using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public async ValueTask<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var results = await EnqueueManyAsync([job], cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return [];
        }

        for (var i = 0; i < jobs.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(jobs[i], nameof(jobs));
        }

        var (results, anyPending) = await WriteAsync(jobs, static (store, session, batch) =>
            session.InTransaction((store, batch), static (s, state) => state.store.InsertJobs(s, state.batch, allOrNone: false)), cancellationToken)
            .ConfigureAwait(false);
        if (anyPending)
        {
            _signal.Fire();
        }

        return results;
    }

    /// <summary>
    /// Inserts the jobs one by one inside the caller's transaction; each is refused or stored on its own. With
    /// <paramref name="allOrNone"/> (the caller rolls back when one is refused) the batch members of the list are first
    /// counted in their batches' totals, so that a member that finishes as it is stored (a dependency that already
    /// failed cancels it) cannot finish its batch while members later in the list are still to come.
    /// </summary>
    private (EnqueueResult[] Results, bool AnyPending) InsertJobs(SqliteSession session, IReadOnlyList<NewJob> jobs, bool allOrNone)
    {
        var now = _timeProvider.GetUtcNow();
        var nowMicros = UnixTime.ToMicroseconds(now);
        var lastSeq = ReadPendingSeq(session);
        var firstSeq = lastSeq;
        var flowPending = false;
        var results = new EnqueueResult[jobs.Count];
        var insert = session.Command(SqlStatement.InsertJob);
        var flow = allOrNone ? FlowEnqueue.WithMembersCounted(session, jobs, nowMicros) : null;
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.HasFlow)
            {
                // The workflow triggers may hand out pending_seq values: the counter is theirs meanwhile.
                AdvancePendingSeq(session, lastSeq);
                results[i] = InsertFlowJob(session, job, now, flow ??= new FlowEnqueue());
                lastSeq = Math.Max(lastSeq, ReadPendingSeq(session));
                flowPending |= results[i] is { Outcome: EnqueueOutcome.Enqueued, State: JobState.Pending };
                continue;
            }

            if (job.UniqueKey is not null)
            {
                // The id is checked first so that a job refused for both reasons reports its id, as the contract orders them.
                if (FindJob(session, SqlStatement.FindJobById, job, nowMicros) is { } sameId)
                {
                    results[i] = sameId with { Outcome = EnqueueOutcome.DuplicateId };
                    continue;
                }

                if (FindJob(session, SqlStatement.FindUniqueHolder, job, nowMicros) is { } holder)
                {
                    results[i] = holder;
                    continue;
                }
            }

            var scheduled = job.ProcessAt is { } processAt && processAt > now;
            var pendingSeq = scheduled ? (long?)null : lastSeq + 1;
            insert.Bind("@id", job.Id)
                .Bind("@type", job.Type)
                .Bind("@queue", job.Queue)
                .Bind("@tenant", job.Tenant)
                .Bind("@state", scheduled ? "scheduled" : "pending")
                .Bind("@payload", job.Payload.ToBindableArray())
                .Bind("@max_retry", job.MaxRetry)
                .Bind("@timeout_us", UnixTime.ToDbValue(job.Timeout))
                .Bind("@deadline", UnixTime.ToDbValue(job.Deadline))
                .Bind("@scheduled_at", UnixTime.ToDbValue(job.ProcessAt))
                .Bind("@unique_key", job.UniqueKey)
                .Bind("@unique_until", UnixTime.ToDbValue(job.UniqueUntil))
                .Bind("@retention_us", UnixTime.ToMicroseconds(job.Retention))
                .Bind("@failed_retention_us", UnixTime.ToDbValue(job.FailedRetention))
                .Bind("@cancelled_retention_us", UnixTime.ToDbValue(job.CancelledRetention))
                .Bind("@trace_parent", job.TraceParent)
                .Bind("@now", nowMicros)
                .Bind("@enqueued_at", scheduled ? null : nowMicros)
                .Bind("@pending_seq", pendingSeq);
            if (insert.ExecuteNonQuery() == 0)
            {
                var existing = FindJob(session, SqlStatement.FindJobById, job, nowMicros)
                    ?? throw new InvalidOperationException($"Job '{job.Id}' was neither inserted nor found.");
                results[i] = existing with { Outcome = EnqueueOutcome.DuplicateId };
                continue;
            }

            if (!scheduled)
            {
                lastSeq++;
            }

            results[i] = new EnqueueResult(EnqueueOutcome.Enqueued, job.Id, scheduled ? JobState.Scheduled : JobState.Pending, job.Queue, now);
        }

        flow?.CountInBatches(session, nowMicros);
        if (lastSeq != firstSeq)
        {
            AdvancePendingSeq(session, lastSeq);
        }

        return (results, lastSeq != firstSeq || flowPending);
    }

    /// <summary>The job that an enqueue duplicates, by id or by unique key, as a refused result.</summary>
    private static EnqueueResult? FindJob(SqliteSession session, SqlStatement statement, NewJob job, long nowMicros)
    {
        var command = session.Command(statement);
        if (statement == SqlStatement.FindJobById)
        {
            command.Bind("@id", job.Id);
        }
        else
        {
            command.Bind("@tenant", job.Tenant).Bind("@unique_key", job.UniqueKey).Bind("@now", nowMicros);
        }

        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new EnqueueResult(
            EnqueueOutcome.DuplicateUniqueKey,
            reader.GetString(0),
            JobStateExtensions.FromStorageName(reader.GetString(1)),
            reader.GetString(2),
            UnixTime.FromMicroseconds(reader.GetInt64(3)));
    }

    /// <summary>The last pending_seq handed out; call inside the write transaction that hands out the next ones.</summary>
    private static long ReadPendingSeq(SqliteSession session)
    {
        using var reader = session.Command(SqlStatement.ReadPendingSeq).ExecuteReader();
        return reader.Read() ? reader.GetInt64(0) : 0;
    }

    private static void AdvancePendingSeq(SqliteSession session, long lastHandedOut) =>
        session.Command(SqlStatement.AdvancePendingSeq).Bind("@value", lastHandedOut).ExecuteNonQuery();

    private static SqliteCommand BindLease(SqliteCommand command, string jobId, long leaseToken) =>
        command.Bind("@id", jobId).Bind("@lease_token", leaseToken);
}
