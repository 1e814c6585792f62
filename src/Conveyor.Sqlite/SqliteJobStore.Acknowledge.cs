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
                // A run of plain successes (the bulk of a busy server's acknowledgements) is one statement, or a few with
                // batch members among them (EndSuccessRun).
                var end = i + 1;
                while (end < acknowledgements.Count && acknowledgements[end] is { } next && IsPlainSuccess(next))
                {
                    end++;
                }

                if (end - i > 1 || ack.BatchId is not null)
                {
                    applied += EndSuccessRun(session, acknowledgements, i, end, now);
                    i = end - 1;
                    continue;
                }
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
