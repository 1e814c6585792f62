using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <summary>
    /// A dequeue from fair queues (<see cref="DequeueRequest.FairQueues"/>), inside the dequeue's write transaction, so
    /// choosing and leasing are one atomic step. The tenants with pending jobs are found one index probe each
    /// (NextFairTenant on jobs_pending_tenant), and only the first jobs of each tenant in the round are read.
    /// </summary>
    private sealed class FairDequeue(SqliteSession session, DequeueRequest request, DateTimeOffset now, DateTimeOffset leaseExpiresAt, LimitedDequeue? limits)
    {
        private readonly Dictionary<string, string> _lastTenant = request.FairQueues.ToDictionary(static f => f.Queue, static f => f.LastTenant, StringComparer.Ordinal);

        public bool IsFair(string queue) => _lastTenant.ContainsKey(queue);

        /// <summary>Leases up to <paramref name="want"/> jobs of the queue in turns between its tenants, in turn order; returns how many.</summary>
        public int Lease(string queue, int want, List<LeasedJob> leased)
        {
            var last = _lastTenant[queue];
            var taken = 0;
            var lease = session.Command(SqlStatement.LeaseJob)
                .Bind("@now", UnixTime.ToMicroseconds(now))
                .Bind("@owner", request.ServerId)
                .Bind("@lease_expires_at", UnixTime.ToMicroseconds(leaseExpiresAt));
            for (var round = 0; round < DequeueRequest.FairRounds && taken < want; round++)
            {
                var need = want - taken;
                var tenants = NextTenants(queue, last, need);
                if (tenants.Count == 0)
                {
                    break;
                }

                var share = FairTurns.Share(need, tenants.Count);
                var depth = limits is null ? share : Math.Max(share, DequeueRequest.LimitedScanDepth / tenants.Count);
                var candidates = new List<IReadOnlyList<(long Seq, string Type, string Tenant)>>(tenants.Count);
                var read = session.Command(SqlStatement.TenantCandidates).Bind("@queue", queue).Bind("@limit", depth);
                foreach (var tenant in tenants)
                {
                    var jobs = new List<(long, string, string)>();
                    using var reader = read.Bind("@tenant", tenant).ExecuteReader();
                    while (reader.Read())
                    {
                        jobs.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
                    }

                    candidates.Add(jobs);
                }

                var perTenant = new int[tenants.Count];
                var before = taken;
                foreach (var (position, job) in FairTurns.InTurns(candidates))
                {
                    if (taken == want)
                    {
                        break;
                    }

                    if (perTenant[position] == share || (limits is not null && !limits.TryTake(queue, job.Type, job.Tenant)))
                    {
                        continue;
                    }

                    using var reader = lease.Bind("@seq", job.Seq).ExecuteReader();
                    if (reader.Read())
                    {
                        leased.Add(ReadLeased(reader, leaseExpiresAt));
                        perTenant[position]++;
                        last = job.Tenant;
                        taken++;
                    }
                }

                if (taken == before)
                {
                    break;
                }
            }

            _lastTenant[queue] = last;
            return taken;
        }

        /// <summary>Up to <paramref name="max"/> tenants with pending jobs, in turn order: after <paramref name="last"/>, then from the first.</summary>
        private List<string> NextTenants(string queue, string last, int max)
        {
            var tenants = new List<string>();
            var next = session.Command(SqlStatement.NextFairTenant).Bind("@queue", queue);
            var after = last;
            var wrapped = last.Length == 0;
            while (tenants.Count < max)
            {
                var tenant = next.Bind("@after", after).ExecuteScalar() as string;
                if (tenant is null || (wrapped && last.Length > 0 && string.CompareOrdinal(tenant, last) > 0))
                {
                    if (wrapped)
                    {
                        break;
                    }

                    wrapped = true;
                    after = "";
                    continue;
                }

                tenants.Add(tenant);
                after = tenant;
            }

            return tenants;
        }
    }
}
