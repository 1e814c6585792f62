using Conveyor.Sqlite.Internal;
using Conveyor.Storage;
using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public ValueTask<bool> TryCreateScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return WriteAsync(schedule, static (store, session, s) =>
        {
            using var reader = BindSchedule(session.Command(SqlStatement.InsertSchedule), s, store.Now())
                .Bind("@revision", Random.Shared.NextInt64(1L << 52))
                .ExecuteReader();
            return reader.Read();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryReplaceScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return WriteAsync(schedule, static (store, session, s) =>
            BindSchedule(session.Command(SqlStatement.ReplaceSchedule), s, store.Now()).Bind("@revision", s.Revision).ExecuteNonQuery() == 1, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ScheduleRecord?> GetScheduleAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync((tenant, name), static (_, session, key) =>
        {
            using var reader = session.Command(SqlStatement.GetSchedule).Bind("@tenant", key.tenant).Bind("@name", key.name).ExecuteReader();
            return reader.Read() ? ReadSchedule(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string? tenant, CancellationToken cancellationToken) =>
        ReadAsync(tenant, static (_, session, t) => ReadSchedules(session.Command(SqlStatement.ListSchedules).Bind("@tenant", t)), cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync((until, limit), static (_, session, q) => ReadSchedules(session.Command(SqlStatement.ListDueSchedules)
            .Bind("@until", UnixTime.ToMicroseconds(q.until))
            .Bind("@limit", q.limit)), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryRecordScheduleFireAsync(ScheduleFire fire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fire);
        return WriteAsync(fire, static (_, session, f) => session.Command(SqlStatement.RecordScheduleFire)
            .Bind("@tenant", f.Tenant)
            .Bind("@name", f.Name)
            .Bind("@expected", Micros(f.ExpectedNextFireAt))
            .Bind("@next_fire_at", Micros(f.NextFireAt))
            .Bind("@last_fire_at", UnixTime.ToMicroseconds(f.LastFireAt))
            .Bind("@last_job_id", f.LastJobId)
            .ExecuteNonQuery() == 1, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteScheduleAsync(string tenant, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync((tenant, name), static (_, session, key) =>
            session.Command(SqlStatement.DeleteSchedule).Bind("@tenant", key.tenant).Bind("@name", key.name).ExecuteNonQuery() == 1, cancellationToken);
    }

    private static long? Micros(DateTimeOffset? at) => at is { } value ? UnixTime.ToMicroseconds(value) : null;

    private static SqliteCommand BindSchedule(SqliteCommand command, ScheduleRecord s, long now) => command
        .Bind("@tenant", s.Tenant)
        .Bind("@name", s.Name)
        .Bind("@cron", s.Cron)
        .Bind("@time_zone", s.TimeZone)
        .Bind("@job_type", s.JobType)
        .Bind("@queue", s.Queue)
        .Bind("@max_retry", s.MaxRetry)
        .Bind("@timeout_us", s.Timeout is { } timeout ? timeout.Ticks / 10 : null)
        .Bind("@misfire", (int)s.Misfire)
        .Bind("@overlap", (int)s.Overlap)
        .Bind("@paused", s.Paused ? 1 : 0)
        .Bind("@origin", (int)s.Origin)
        .Bind("@next_fire_at", s.Paused ? null : Micros(s.NextFireAt))
        .Bind("@now", now)
        .Bind("@payload", s.Payload.ToBindableArray());

    private static IReadOnlyList<ScheduleRecord> ReadSchedules(SqliteCommand command)
    {
        var schedules = new List<ScheduleRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            schedules.Add(ReadSchedule(reader));
        }

        return schedules;
    }

    private static ScheduleRecord ReadSchedule(SqliteDataReader reader) => new()
    {
        Tenant = reader.GetString(0),
        Name = reader.GetString(1),
        Cron = reader.GetString(2),
        TimeZone = reader.GetString(3),
        JobType = reader.GetString(4),
        Queue = reader.GetNullableString(5),
        MaxRetry = reader.IsDBNull(6) ? null : reader.GetInt32(6),
        Timeout = reader.GetNullableInt64(7) is { } timeout ? TimeSpan.FromTicks(timeout * 10) : null,
        Misfire = (MisfirePolicy)reader.GetInt32(8),
        Overlap = (OverlapPolicy)reader.GetInt32(9),
        Paused = reader.GetInt32(10) != 0,
        Origin = (ScheduleOrigin)reader.GetInt32(11),
        NextFireAt = reader.GetNullableInt64(12) is { } next ? UnixTime.FromMicroseconds(next) : null,
        LastFireAt = reader.GetNullableInt64(13) is { } last ? UnixTime.FromMicroseconds(last) : null,
        LastJobId = reader.GetNullableString(14),
        CreatedAt = UnixTime.FromMicroseconds(reader.GetInt64(15)),
        UpdatedAt = UnixTime.FromMicroseconds(reader.GetInt64(16)),
        Payload = reader.IsDBNull(17) ? ReadOnlyMemory<byte>.Empty : (byte[])reader.GetValue(17),
        Revision = reader.GetInt64(18),
    };
}
