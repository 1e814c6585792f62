using Conveyor.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    private const string ScheduleColumns = """
        tenant, name, cron, time_zone, job_type, queue, max_retry, timeout, misfire, overlap, paused, origin,
        next_fire_at, last_fire_at, last_job_id, created_at, updated_at, payload
        """;

    // What a read returns: the stored columns and the revision, which only the store writes.
    private const string ScheduleReadColumns = $"{ScheduleColumns}, revision";

    // $1 tenant … $13 next fire (the definition, in ScheduleParameters' order), $14 now, $15 payload, $16 the first
    // revision (drawn at random, ScheduleRecord.Revision). A row when stored.
    private const string InsertScheduleTemplate = $"""
        INSERT INTO :"schema".schedules ({ScheduleColumns}, revision)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, $14, $14, $15, $16)
        ON CONFLICT (tenant, name) DO NOTHING
        RETURNING 1
        """;

    // Parameters as InsertSchedule, $16 the revision read: applies only while the schedule is still at it, and advances it.
    // Keeps created_at, last_fire_at and last_job_id.
    private const string ReplaceScheduleTemplate = """
        UPDATE :"schema".schedules
        SET cron = $3, time_zone = $4, job_type = $5, queue = $6, max_retry = $7, timeout = $8, misfire = $9, overlap = $10,
            paused = $11, origin = $12, next_fire_at = $13, updated_at = $14, payload = $15, revision = revision + 1
        WHERE tenant = $1 AND name = $2 AND revision = $16
        """;

    // $1 tenant, $2 name.
    private const string GetScheduleTemplate = $"""SELECT {ScheduleReadColumns} FROM :"schema".schedules WHERE tenant = $1 AND name = $2""";

    // $1 tenant (NULL for every tenant).
    private const string ListSchedulesTemplate = $"""
        SELECT {ScheduleReadColumns} FROM :"schema".schedules WHERE $1::text IS NULL OR tenant = $1 ORDER BY tenant, name
        """;

    // $1 until, $2 limit. Uses the partial index schedules_due.
    private const string ListDueSchedulesTemplate = $"""
        SELECT {ScheduleReadColumns} FROM :"schema".schedules
        WHERE NOT paused AND next_fire_at IS NOT NULL AND next_fire_at <= $1
        ORDER BY next_fire_at, tenant, name
        LIMIT $2
        """;

    // The compare-and-set that lets many schedulers share a schedule: applies only while the next tick is still $3
    // (NULL for none). $4 new next tick, $5 last fire, $6 last job (NULL keeps the recorded one). The revision advances.
    private const string RecordScheduleFireTemplate = """
        UPDATE :"schema".schedules
        SET next_fire_at = $4, last_fire_at = $5, last_job_id = coalesce($6, last_job_id), revision = revision + 1
        WHERE tenant = $1 AND name = $2 AND next_fire_at IS NOT DISTINCT FROM $3
        """;

    // $1 tenant, $2 name.
    private const string DeleteScheduleTemplate = """DELETE FROM :"schema".schedules WHERE tenant = $1 AND name = $2""";

    private string InsertScheduleSql => field ??= Sql(InsertScheduleTemplate);

    private string ReplaceScheduleSql => field ??= Sql(ReplaceScheduleTemplate);

    private string GetScheduleSql => field ??= Sql(GetScheduleTemplate);

    private string ListSchedulesSql => field ??= Sql(ListSchedulesTemplate);

    private string ListDueSchedulesSql => field ??= Sql(ListDueSchedulesTemplate);

    private string RecordScheduleFireSql => field ??= Sql(RecordScheduleFireTemplate);

    private string DeleteScheduleSql => field ??= Sql(DeleteScheduleTemplate);

    /// <inheritdoc />
    public ValueTask<bool> TryCreateScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TryCreateScheduleCoreAsync(schedule, token), cancellationToken);

    private async ValueTask<bool> TryCreateScheduleCoreAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return await ExecuteAsync(InsertScheduleSql, cancellationToken, [.. ScheduleParameters(schedule), P(Random.Shared.NextInt64(1L << 52))]).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryReplaceScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TryReplaceScheduleCoreAsync(schedule, token), cancellationToken);

    private async ValueTask<bool> TryReplaceScheduleCoreAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return await ExecuteAsync(ReplaceScheduleSql, cancellationToken, [.. ScheduleParameters(schedule), P(schedule.Revision)]).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public ValueTask<ScheduleRecord?> GetScheduleAsync(string tenant, string name, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => GetScheduleCoreAsync(tenant, name, token), cancellationToken);

    private async ValueTask<ScheduleRecord?> GetScheduleCoreAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        var found = await ReadSchedulesAsync(GetScheduleSql, cancellationToken, Text(tenant), Text(name)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string? tenant, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListSchedulesCoreAsync(tenant, token), cancellationToken);

    private ValueTask<IReadOnlyList<ScheduleRecord>> ListSchedulesCoreAsync(string? tenant, CancellationToken cancellationToken) =>
        ReadSchedulesAsync(ListSchedulesSql, cancellationToken, Text(tenant));

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => ListDueSchedulesCoreAsync(until, limit, token), cancellationToken);

    private ValueTask<IReadOnlyList<ScheduleRecord>> ListDueSchedulesCoreAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadSchedulesAsync(ListDueSchedulesSql, cancellationToken, TimestampTz(until), P(limit));
    }

    /// <inheritdoc />
    public ValueTask<bool> TryRecordScheduleFireAsync(ScheduleFire fire, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => TryRecordScheduleFireCoreAsync(fire, token), cancellationToken);

    private async ValueTask<bool> TryRecordScheduleFireCoreAsync(ScheduleFire fire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fire);
        return await ExecuteAsync(
            RecordScheduleFireSql,
            cancellationToken,
            Text(fire.Tenant),
            Text(fire.Name),
            TimestampTz(fire.ExpectedNextFireAt),
            TimestampTz(fire.NextFireAt),
            TimestampTz(fire.LastFireAt),
            Text(fire.LastJobId)).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteScheduleAsync(string tenant, string name, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => DeleteScheduleCoreAsync(tenant, name, token), cancellationToken);

    private async ValueTask<bool> DeleteScheduleCoreAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        return await ExecuteAsync(DeleteScheduleSql, cancellationToken, Text(tenant), Text(name)).ConfigureAwait(false) > 0;
    }

    private NpgsqlParameter[] ScheduleParameters(ScheduleRecord s) =>
    [
        Text(s.Tenant),
        Text(s.Name),
        Text(s.Cron),
        Text(s.TimeZone),
        Text(s.JobType),
        Text(s.Queue),
        new() { Value = (object?)s.MaxRetry ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer },
        new() { Value = (object?)s.Timeout ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Interval },
        P((short)s.Misfire),
        P((short)s.Overlap),
        P(s.Paused),
        P((short)s.Origin),
        TimestampTz(s.Paused ? null : s.NextFireAt),
        TimestampTz(Now()),
        new() { Value = s.Payload.ToArray(), NpgsqlDbType = NpgsqlDbType.Bytea },
    ];

    private async ValueTask<IReadOnlyList<ScheduleRecord>> ReadSchedulesAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            command.Parameters.AddRange(parameters);
            var schedules = new List<ScheduleRecord>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                schedules.Add(new ScheduleRecord
                {
                    Tenant = reader.GetString(0),
                    Name = reader.GetString(1),
                    Cron = reader.GetString(2),
                    TimeZone = reader.GetString(3),
                    JobType = reader.GetString(4),
                    Queue = JobRows.NullableString(reader, 5),
                    MaxRetry = reader.IsDBNull(6) ? null : reader.GetInt32(6),
                    Timeout = reader.IsDBNull(7) ? null : reader.GetFieldValue<TimeSpan>(7),
                    Misfire = (MisfirePolicy)reader.GetInt16(8),
                    Overlap = (OverlapPolicy)reader.GetInt16(9),
                    Paused = reader.GetBoolean(10),
                    Origin = (ScheduleOrigin)reader.GetInt16(11),
                    NextFireAt = JobRows.NullableTime(reader, 12),
                    LastFireAt = JobRows.NullableTime(reader, 13),
                    LastJobId = JobRows.NullableString(reader, 14),
                    CreatedAt = JobRows.Time(reader, 15),
                    UpdatedAt = JobRows.Time(reader, 16),
                    Payload = reader.GetFieldValue<byte[]>(17),
                    Revision = reader.GetInt64(18),
                });
            }

            return schedules;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
