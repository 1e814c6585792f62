using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LimitRecord>> ListLimitsAsync(CancellationToken cancellationToken) =>
        ReadAsync(0, static (_, session, _) =>
        {
            var limits = new List<LimitRecord>();
            using var reader = session.Command(SqlStatement.ListLimits).ExecuteReader();
            while (reader.Read())
            {
                limits.Add(new LimitRecord
                {
                    Kind = (LimitKind)reader.GetInt32(0),
                    Name = reader.GetString(1),
                    Queue = reader.GetString(2),
                    JobType = reader.GetNullableString(3),
                    PerTenant = reader.GetInt32(4) != 0,
                    Limit = reader.GetInt32(5),
                    Period = TimeSpan.FromMicroseconds(reader.GetInt64(6)),
                    Burst = reader.GetInt32(7),
                    Source = (LimitSource)reader.GetInt32(8),
                    UpdatedAt = UnixTime.FromMicroseconds(reader.GetInt64(9)),
                });
            }

            return (IReadOnlyList<LimitRecord>)limits;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>One write transaction: the source is read and the row written under the single writer.</remarks>
    public ValueTask<LimitWriteResult> PutLimitAsync(LimitRecord limit, CancellationToken cancellationToken)
    {
        LimitRecords.Validate(limit);
        return WriteAsync(LimitRecords.Normalize(limit), static (store, session, l) => session.InTransaction((store, l), static (s, state) =>
        {
            var (store, limit) = state;
            long? source;
            using (var reader = s.Command(SqlStatement.ReadLimitSource).Bind("@kind", (int)limit.Kind).Bind("@name", limit.Name).ExecuteReader())
            {
                source = reader.Read() ? reader.GetInt64(0) : null;
            }

            if (source == (int)LimitSource.Api && limit.Source == LimitSource.Configuration)
            {
                return LimitWriteResult.KeptApiLimit;
            }

            s.Command(SqlStatement.WriteLimit)
                .Bind("@kind", (int)limit.Kind)
                .Bind("@name", limit.Name)
                .Bind("@queue", limit.Queue)
                .Bind("@job_type", limit.JobType)
                .Bind("@per_tenant", limit.PerTenant ? 1 : 0)
                .Bind("@lim", limit.Limit)
                .Bind("@period_us", limit.Period.Ticks / TimeSpan.TicksPerMicrosecond)
                .Bind("@burst", limit.Burst)
                .Bind("@source", (int)limit.Source)
                .Bind("@now", store.Now())
                .ExecuteNonQuery();
            return source is null ? LimitWriteResult.Created : LimitWriteResult.Replaced;
        }), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteLimitAsync(LimitKind kind, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync((kind, name), static (_, session, key) =>
            session.Command(SqlStatement.DeleteLimit).Bind("@kind", (int)key.kind).Bind("@name", key.name).ExecuteNonQuery() == 1, cancellationToken);
    }
}
