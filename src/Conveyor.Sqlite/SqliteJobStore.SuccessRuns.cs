using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

/// <summary>
/// A run of plain successes in one acknowledgement call. Without a batch member among them it is one statement
/// (AckSucceededMany.sql), whose rows SQLite ends by seq, each firing its workflow triggers in turn. The members that
/// nothing but their batch waits for end without those triggers (AckSucceededMembers.sql) and are counted in their
/// batches once per batch (CountBatchSuccesses.sql): through the triggers each member wrote its batch's row and its own
/// a second time, and ran two triggers, which made a member's end cost twice a plain job's (bench/README, "Workflows").
/// The run is still ended in the one statement's order: what a batch's finish releases or ends, and what the other
/// jobs' triggers release or end, is released (pending order, the hand-off's lease) and ended (a job waiting for two
/// things that both end without success takes the first one's policy) in the same order
/// (<c>WorkflowTests.MemberEndOrder_…</c>).
/// </summary>
public sealed partial class SqliteJobStore
{
    /// <summary>How ReadSuccessRun.sql says a job's end is written.</summary>
    private enum SuccessWay
    {
        /// <summary>No workflow step: no trigger fires, the order does not matter.</summary>
        Plain = 0,

        /// <summary>A batch member that nothing but its batch waits for: AckSucceededMembers.sql, then its batch's count.</summary>
        Member = 1,

        /// <summary>Through the workflow triggers (AckSucceededMany.sql).</summary>
        Triggered = 2,
    }

    /// <summary>Ends the plain successes acknowledgements[start..end) and returns how many applied.</summary>
    private static int EndSuccessRun(SqliteSession session, IReadOnlyList<JobAcknowledgement> acknowledgements, int start, int end, long now)
    {
        var anyMember = false;
        for (var i = start; i < end && !anyMember; i++)
        {
            anyMember = acknowledgements[i].BatchId is not null;
        }

        if (!anyMember)
        {
            return EndTriggered(session, acknowledgements, start, end, now);
        }

        if (end - start == 1)
        {
            // One job: no order to keep.
            IReadOnlyList<JobAcknowledgement> one = [acknowledgements[start]];
            return EndMembers(session, one, now) == 1 ? 1 : EndTriggered(session, one, 0, 1, now);
        }

        var applied = 0;
        List<JobAcknowledgement> plain = [];
        List<JobAcknowledgement> stretch = [];
        var stretchWay = SuccessWay.Plain;
        foreach (var (ack, way) in ReadSuccessRun(session, acknowledgements, start, end))
        {
            if (way == SuccessWay.Plain)
            {
                plain.Add(ack);
                continue;
            }

            if (way != stretchWay && stretch.Count > 0)
            {
                applied += EndStretch(session, stretch, stretchWay, now);
                stretch = [];
            }

            stretchWay = way;
            stretch.Add(ack);
        }

        if (stretch.Count > 0)
        {
            applied += EndStretch(session, stretch, stretchWay, now);
        }

        return plain.Count > 0 ? applied + EndTriggered(session, plain, 0, plain.Count, now) : applied;
    }

    private static int EndStretch(SqliteSession session, List<JobAcknowledgement> stretch, SuccessWay way, long now)
    {
        if (way == SuccessWay.Triggered)
        {
            return EndTriggered(session, stretch, 0, stretch.Count, now);
        }

        var ended = EndMembers(session, stretch, now);
        return ended == stretch.Count ? ended : ended + EndTriggered(session, stretch, 0, stretch.Count, now);
    }

    /// <summary>AckSucceededMany.sql over acknowledgements[start..end).</summary>
    private static int EndTriggered(SqliteSession session, IReadOnlyList<JobAcknowledgement> acknowledgements, int start, int end, long now) =>
        session.Command(SqlStatement.AckSucceededMany)
            .Bind("@acks", EncodeLeases(acknowledgements, start, end))
            .Bind("@now", now)
            .ExecuteNonQuery();

    /// <summary>
    /// The run's acknowledgements that apply, each job once, in the order one AckSucceededMany.sql over the run would end
    /// them, with the way each is ended.
    /// </summary>
    private static List<(JobAcknowledgement Ack, SuccessWay Way)> ReadSuccessRun(
        SqliteSession session, IReadOnlyList<JobAcknowledgement> acknowledgements, int start, int end)
    {
        var run = new List<(JobAcknowledgement, SuccessWay)>(end - start);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var reader = session.Command(SqlStatement.ReadSuccessRun)
            .Bind("@acks", EncodeLeases(acknowledgements, start, end))
            .ExecuteReader();
        while (reader.Read())
        {
            var ack = acknowledgements[start + reader.GetInt32(0)];
            if (seen.Add(ack.JobId))
            {
                run.Add((ack, (SuccessWay)reader.GetInt32(1)));
            }
        }

        return run;
    }

    /// <summary>
    /// Ends the members among <paramref name="members"/> that AckSucceededMembers.sql takes and counts them in their
    /// batches, one count per batch, in the order of each batch's last member in the list (the member whose count would
    /// finish it), and returns how many it ended. The others are left active, for AckSucceededMany.sql.
    /// </summary>
    private static int EndMembers(SqliteSession session, IReadOnlyList<JobAcknowledgement> members, long now)
    {
        var batchOf = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var reader = session.Command(SqlStatement.AckSucceededMembers)
            .Bind("@acks", EncodeLeases(members, 0, members.Count))
            .Bind("@now", now)
            .ExecuteReader())
        {
            while (reader.Read())
            {
                batchOf[reader.GetString(0)] = reader.GetString(1);
            }
        }

        if (batchOf.Count == 0)
        {
            return 0;
        }

        var counts = new Dictionary<string, (int Count, int Last)>(StringComparer.Ordinal);
        for (var i = 0; i < members.Count; i++)
        {
            if (batchOf.Remove(members[i].JobId, out var batchId))
            {
                var (count, _) = counts.GetValueOrDefault(batchId);
                counts[batchId] = (count + 1, i);
            }
        }

        var ended = 0;
        foreach (var (batchId, (count, _)) in counts.OrderBy(static c => c.Value.Last))
        {
            session.Command(SqlStatement.CountBatchSuccesses)
                .Bind("@id", batchId)
                .Bind("@count", count)
                .Bind("@now", now)
                .ExecuteNonQuery();
            ended += count;
        }

        return ended;
    }
}
