using Conveyor.Storage;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    private const string ListLimitsTemplate = """
        SELECT kind, name, queue, job_type, per_tenant, lim, period_us, burst, source, updated_at
        FROM :"schema".limit_definitions ORDER BY kind, name
        """;

    // $1 kind … $9 source, $10 now. One statement, so atomic: a configured limit (source 0) never replaces an API one
    // (source 1); then no row comes back. created is true for an insert (xmax is 0 only on a row this statement inserted).
    private const string PutLimitTemplate = """
        INSERT INTO :"schema".limit_definitions AS l (kind, name, queue, job_type, per_tenant, lim, period_us, burst, source, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (kind, name) DO UPDATE SET
            queue = excluded.queue, job_type = excluded.job_type, per_tenant = excluded.per_tenant, lim = excluded.lim,
            period_us = excluded.period_us, burst = excluded.burst, source = excluded.source, updated_at = excluded.updated_at
        WHERE NOT (l.source = 1 AND excluded.source = 0)
        RETURNING (xmax = 0) AS created
        """;

    // $1 kind, $2 name.
    private const string DeleteLimitTemplate = """DELETE FROM :"schema".limit_definitions WHERE kind = $1 AND name = $2""";

    private string ListLimitsSql => field ??= Sql(ListLimitsTemplate);

    private string PutLimitSql => field ??= Sql(PutLimitTemplate);

    private string DeleteLimitSql => field ??= Sql(DeleteLimitTemplate);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LimitRecord>> ListLimitsAsync(CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListLimitsCoreAsync(token), cancellationToken);

    private async ValueTask<IReadOnlyList<LimitRecord>> ListLimitsCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(ListLimitsSql);
            var limits = new List<LimitRecord>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                limits.Add(new LimitRecord
                {
                    Kind = (LimitKind)reader.GetInt16(0),
                    Name = reader.GetString(1),
                    Queue = reader.GetString(2),
                    JobType = JobRows.NullableString(reader, 3),
                    PerTenant = reader.GetBoolean(4),
                    Limit = reader.GetInt32(5),
                    Period = TimeSpan.FromMicroseconds(reader.GetInt64(6)),
                    Burst = reader.GetInt32(7),
                    Source = (LimitSource)reader.GetInt16(8),
                    UpdatedAt = JobRows.Time(reader, 9),
                });
            }

            return limits;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<LimitWriteResult> PutLimitAsync(LimitRecord limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => PutLimitCoreAsync(limit, token), cancellationToken);

    private async ValueTask<LimitWriteResult> PutLimitCoreAsync(LimitRecord limit, CancellationToken cancellationToken)
    {
        LimitRecords.Validate(limit);
        var l = LimitRecords.Normalize(limit);
        try
        {
            await using var command = _dataSource.CreateCommand(PutLimitSql);
            command.Parameters.AddRange(new Npgsql.NpgsqlParameter[]
            {
                P((short)l.Kind),
                Text(l.Name),
                Text(l.Queue),
                Text(l.JobType),
                P(l.PerTenant),
                P(l.Limit),
                P(l.Period.Ticks / TimeSpan.TicksPerMicrosecond),
                P(l.Burst),
                P((short)l.Source),
                TimestampTz(Now()),
            });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return LimitWriteResult.KeptApiLimit;
            }

            return reader.GetBoolean(0) ? LimitWriteResult.Created : LimitWriteResult.Replaced;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteLimitAsync(LimitKind kind, string name, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => DeleteLimitCoreAsync(kind, name, token), cancellationToken);

    private async ValueTask<bool> DeleteLimitCoreAsync(LimitKind kind, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        return await ExecuteAsync(DeleteLimitSql, cancellationToken, P((short)kind), Text(name)).ConfigureAwait(false) > 0;
    }
}
