using System.Buffers;
using System.Text;
using System.Text.Json;
using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public async ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        if (acknowledgements.Count == 0)
        {
            return 0;
        }

        var (applied, released, _) = await WriteAsync(acknowledgements, static (store, session, acks) =>
            session.InTransaction((store, acks), static (s, state) => state.store.Acknowledge(s, state.acks)), cancellationToken)
            .ConfigureAwait(false);
        if (released)
        {
            _signal.Fire();
        }

        return applied;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The acknowledgements and, when the workflow triggers released waiting jobs in them, the dequeue are one
    /// transaction under the write lock: a released job is leased here before any other writer can see it pending.
    /// </remarks>
    public async ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(acknowledgements);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(next.Queues);
        if (acknowledgements.Count == 0)
        {
            return new AcknowledgeResult(0, []);
        }

        var (applied, released, leased) = await WriteAsync((acknowledgements, next), static (store, session, state) =>
            session.InTransaction((store, state.acknowledgements, state.next), static (s, st) =>
            {
                var (applied, released, flowReleased) = st.store.Acknowledge(s, st.acknowledgements);
                IReadOnlyList<LeasedJob> leased = flowReleased && st.next.Limit > 0 && st.next.Queues.Count > 0 ? st.store.LeaseReleased(s, st.next) : [];
                return (applied, released, leased);
            }), cancellationToken)
            .ConfigureAwait(false);
        if (released)
        {
            // Released jobs beyond those leased here, and other store instances of this file, wake as usual.
            _signal.Fire();
        }

        return new AcknowledgeResult(applied, leased);
    }

    /// <summary>
    /// The hand-off's lease. A job released in this transaction is stamped released no earlier than the latest end of
    /// what it waited for (migration 0025), which is after this call's time when another process's acknowledgement took
    /// a later time but wrote first: the lease of such a job starts when it was released, not before.
    /// </summary>
    private List<LeasedJob> LeaseReleased(SqliteSession session, DequeueRequest next)
    {
        var before = _timeProvider.GetUtcNow();
        var leased = LeaseJobs(session, next);
        foreach (var job in leased)
        {
            if (job.EnqueuedAt > before)
            {
                session.Command(StartWhenReleasedSql).Bind("@id", job.Id).ExecuteNonQuery();
            }
        }

        return leased;
    }

    private const string StartWhenReleasedSql = "UPDATE jobs SET started_at = enqueued_at WHERE id = @id AND enqueued_at > started_at;";

    /// <summary>
    /// Applies each acknowledgement with one UPDATE that matches the job only while it is still active under
    /// the acknowledgement's lease token: a worker whose lease expired (and whose job was recovered and maybe
    /// leased again) never overwrites what happened since.
    /// </summary>
    private (int Applied, bool Released, bool FlowReleased) Acknowledge(SqliteSession session, IReadOnlyList<JobAcknowledgement> acknowledgements)
    {
        var now = Now();
        var applied = 0;
        var releasedCount = 0;
        for (var i = 0; i < acknowledgements.Count; i++)
        {
            var ack = acknowledgements[i];
            ArgumentNullException.ThrowIfNull(ack, nameof(acknowledgements));
            if (IsPlainSuccess(ack))
            {
                // A run of plain successes (the bulk of a busy server's acknowledgements) is one statement, or two with
                // batch members among them. Only a failure's cascade depends on the order of a call's ends (WorkflowTests,
                // "ResolutionOrder"), so the ends of a run may be applied in any order.
                var end = i + 1;
                while (end < acknowledgements.Count && acknowledgements[end] is { } next && IsPlainSuccess(next))
                {
                    end++;
                }

                var (members, others) = EndBatchMembers(session, acknowledgements, i, end, now);
                applied += members;
                i = end - 1;
                if (others.Count > 1)
                {
                    applied += session.Command(SqlStatement.AckSucceededMany)
                        .Bind("@acks", EncodeLeases(others, 0, others.Count))
                        .Bind("@now", now)
                        .ExecuteNonQuery();
                    continue;
                }

                if (others.Count == 0)
                {
                    continue;
                }

                ack = others[0];
            }

            if (AcknowledgeOne(session, ack, now))
            {
                applied++;
                if (ack.Outcome == AckOutcome.Released)
                {
                    releasedCount++;
                }
            }
        }

        foreach (var ack in acknowledgements)
        {
            if (ack.IdempotencyKey is not null)
            {
                SettleIdempotencyKey(session, ack, now);
            }
        }

        // Dependants released by the workflow triggers in this transaction wake this process's workers too.
        var flowReleased = FlowReleasedJobs(session);
        return (applied, flowReleased | releasedCount > 0, flowReleased);
    }

    private static bool AcknowledgeOne(SqliteSession session, JobAcknowledgement ack, long now)
    {
        var errors = ack.Outcome is AckOutcome.Released or AckOutcome.Snoozed ? string.Empty : JobErrorLines.Encode(ack.ItemErrors ?? [], ack.Error);
        var command = ack.Outcome switch
        {
            AckOutcome.Succeeded or AckOutcome.Partial => session.Command(SqlStatement.AckComplete)
                .Bind("@state", ack.Outcome == AckOutcome.Succeeded ? "succeeded" : "partial")
                .Bind("@result", ack.Result is { } result ? result.ToBindableArray() : null)
                .Bind("@result_url", ack.ResultUrl)
                .Bind("@errors", errors),
            AckOutcome.Retry => session.Command(SqlStatement.AckRetry)
                .Bind("@retry_at", ack.RetryAt is { } retryAt ? UnixTime.ToMicroseconds(retryAt) : now)
                .Bind("@errors", errors),
            AckOutcome.Failed or AckOutcome.Cancelled => session.Command(SqlStatement.AckFinishUnsuccessful)
                .Bind("@state", ack.Outcome == AckOutcome.Failed ? "failed" : "cancelled")
                .Bind("@errors", errors),
            AckOutcome.Released => session.Command(SqlStatement.AckRelease).Bind("@attempt_ran", ack.AttemptRan),
            AckOutcome.Snoozed => session.Command(SqlStatement.AckSnooze)
                .Bind("@snooze_until", ack.SnoozeUntil is { } snoozeUntil ? UnixTime.ToMicroseconds(snoozeUntil) : now)
                .Bind("@reason", ack.SnoozeReason),
            _ => throw new ArgumentOutOfRangeException(nameof(ack), ack.Outcome, "Unknown acknowledgement outcome."),
        };

        return BindLease(command, ack.JobId, ack.LeaseToken).Bind("@now", now).ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// Ends the batch members of a run of plain successes that nothing but their batch waits for (AckSucceededMembers.sql)
    /// and counts them in their batches once per batch: through the workflow triggers each member wrote its batch's row
    /// and its own a second time, and ran two triggers, which made a member's end cost twice a plain job's (bench/README,
    /// "Workflows"). Returns how many it ended and the run's other acknowledgements, for the usual statements.
    /// </summary>
    private static (int Ended, IReadOnlyList<JobAcknowledgement> Others) EndBatchMembers(
        SqliteSession session, IReadOnlyList<JobAcknowledgement> acknowledgements, int start, int end, long now)
    {
        List<JobAcknowledgement>? members = null;
        for (var i = start; i < end; i++)
        {
            if (acknowledgements[i].BatchId is not null)
            {
                (members ??= []).Add(acknowledgements[i]);
            }
        }

        if (members is null)
        {
            return (0, Slice(acknowledgements, start, end));
        }

        var ended = new HashSet<string>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var reader = session.Command(SqlStatement.AckSucceededMembers)
            .Bind("@acks", EncodeLeases(members, 0, members.Count))
            .Bind("@now", now)
            .ExecuteReader())
        {
            while (reader.Read())
            {
                ended.Add(reader.GetString(0));
                var batchId = reader.GetString(1);
                counts[batchId] = counts.GetValueOrDefault(batchId) + 1;
            }
        }

        foreach (var (batchId, count) in counts)
        {
            session.Command(SqlStatement.CountBatchSuccesses)
                .Bind("@id", batchId)
                .Bind("@count", count)
                .Bind("@now", now)
                .ExecuteNonQuery();
        }

        var others = new List<JobAcknowledgement>(end - start - ended.Count);
        for (var i = start; i < end; i++)
        {
            if (!ended.Contains(acknowledgements[i].JobId))
            {
                others.Add(acknowledgements[i]);
            }
        }

        return (ended.Count, others);
    }

    private static IReadOnlyList<JobAcknowledgement> Slice(IReadOnlyList<JobAcknowledgement> acknowledgements, int start, int end) =>
        start == 0 && end == acknowledgements.Count ? acknowledgements : [.. acknowledgements.Skip(start).Take(end - start)];

    private static bool IsPlainSuccess(JobAcknowledgement ack) =>
        ack.Outcome == AckOutcome.Succeeded && ack.Result is null && ack.ResultUrl is null && ack.Error is null
        && (ack.ItemErrors is null || ack.ItemErrors.Count == 0);

    /// <summary>[[job id, lease token], …] for AckSucceededMany.sql.</summary>
    private static string EncodeLeases(IReadOnlyList<JobAcknowledgement> acknowledgements, int start, int end)
    {
        var buffer = new ArrayBufferWriter<byte>((end - start) * 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = start; i < end; i++)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(acknowledgements[i].JobId);
                writer.WriteNumberValue(acknowledgements[i].LeaseToken);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
