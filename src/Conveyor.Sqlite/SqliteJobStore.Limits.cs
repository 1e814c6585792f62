using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <summary>
    /// A dequeue under concurrency limits, inside the dequeue's write transaction: SQLite lets one writer in at a time,
    /// so the running jobs it counts cannot change before the jobs it chooses are leased. The slot is the active job
    /// itself (nothing is stored that could leak): an acknowledgement, a recovery or a cancellation frees it by ending
    /// the job's active state.
    /// </summary>
    private sealed class LimitedDequeue(SqliteSession session, DequeueRequest request, DateTimeOffset now, DateTimeOffset leaseExpiresAt)
    {
        private readonly ConcurrencyLimitCounts _counts = new(request.ConcurrencyLimits);
        private readonly HashSet<string> _counted = new(StringComparer.Ordinal);

        public bool Limits(string queue) => _counts.Limits(queue);

        /// <summary>Leases up to <paramref name="want"/> jobs of the queue that fit its limits, in queue order; returns how many.</summary>
        public int Lease(string queue, int want, List<LeasedJob> leased)
        {
            CountRunning(queue);

            var chosen = new List<long>();
            using (var reader = session.Command(SqlStatement.PendingCandidates)
                .Bind("@queue", queue).Bind("@limit", DequeueRequest.LimitedScanDepth).ExecuteReader())
            {
                while (chosen.Count < want && reader.Read())
                {
                    if (_counts.TryTake(queue, reader.GetString(1), reader.GetString(2)))
                    {
                        chosen.Add(reader.GetInt64(0));
                    }
                }
            }

            var command = session.Command(SqlStatement.LeaseJob)
                .Bind("@now", UnixTime.ToMicroseconds(now))
                .Bind("@owner", request.ServerId)
                .Bind("@lease_expires_at", UnixTime.ToMicroseconds(leaseExpiresAt));
            var taken = 0;
            foreach (var seq in chosen)
            {
                using var reader = command.Bind("@seq", seq).ExecuteReader();
                if (reader.Read())
                {
                    leased.Add(ReadLeased(reader, leaseExpiresAt));
                    taken++;
                }
            }

            return taken;
        }

        /// <summary>Counts the job if every limit that matches it has a free slot (a fair dequeue's choice); false, counting nothing, otherwise.</summary>
        public bool TryTake(string queue, string type, string tenant)
        {
            CountRunning(queue);
            return _counts.TryTake(queue, type, tenant);
        }

        private void CountRunning(string queue)
        {
            if (_counted.Add(queue))
            {
                using var reader = session.Command(SqlStatement.CountActiveInQueue).Bind("@queue", queue).ExecuteReader();
                while (reader.Read())
                {
                    _counts.AddRunning(queue, reader.GetString(0), reader.GetString(1), reader.GetInt32(2));
                }
            }
        }
    }
}
