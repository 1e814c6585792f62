using System.Text.Json;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// The column lists the store selects and how a row becomes a <see cref="JobInfo"/> or a <see cref="LeasedJob"/>.
/// Readers go by ordinal, so each list and its reader are kept side by side.
/// </summary>
internal static class JobRows
{
    public const string InfoColumns =
        "id, type, queue, tenant, state, payload, attempts, max_retry, timeout, deadline, scheduled_at, unique_key, " +
        "retention, progress, result, result_url, errors, trace_parent, created_at, updated_at, started_at, " +
        "completed_at, cancel_requested, snooze_reason, batch_id, depends_on";

    // A job handed back (released or recovered) keeps enqueued_at, its place in the queue, but waits from returned_at
    // (migration 0039).
    public const string LeasedColumns =
        "id, type, queue, tenant, payload, attempts, max_retry, timeout, deadline, lease_token, lease_expires_at, " +
        "trace_parent, created_at, greatest(enqueued_at, returned_at), batch_id";

    public static JobInfo ReadInfo(NpgsqlDataReader reader)
    {
        var state = JobStateExtensions.FromStorageName(reader.GetString(4));
        return new JobInfo
        {
            Id = reader.GetString(0),
            Type = reader.GetString(1),
            Queue = reader.GetString(2),
            Tenant = reader.GetString(3),
            State = state,
            Payload = reader.GetFieldValue<byte[]>(5),
            Attempts = reader.GetInt32(6),
            MaxRetry = reader.GetInt32(7),
            Timeout = NullableTimeSpan(reader, 8),
            Deadline = NullableTime(reader, 9),
            ScheduledAt = NullableTime(reader, 10),
            UniqueKey = NullableString(reader, 11),
            Retention = reader.GetFieldValue<TimeSpan>(12),
            Progress = reader.GetInt32(13),
            Result = reader.IsDBNull(14) ? (ReadOnlyMemory<byte>?)null : reader.GetFieldValue<byte[]>(14),
            ResultUrl = NullableString(reader, 15),
            Errors = ReadErrors(reader.GetString(16)),
            TraceParent = NullableString(reader, 17),
            CreatedAt = Time(reader, 18),
            UpdatedAt = Time(reader, 19),
            StartedAt = NullableTime(reader, 20),
            CompletedAt = NullableTime(reader, 21),
            CancelRequested = state == JobState.Active && reader.GetBoolean(22),
            SnoozeReason = NullableString(reader, 23),
            BatchId = NullableString(reader, 24),
            DependsOn = reader.IsDBNull(25) ? [] : DependencyJson.Decode(reader.GetString(25)),
        };
    }

    public static LeasedJob ReadLeased(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Type = reader.GetString(1),
        Queue = reader.GetString(2),
        Tenant = reader.GetString(3),
        Payload = reader.GetFieldValue<byte[]>(4),
        Attempt = reader.GetInt32(5),
        MaxRetry = reader.GetInt32(6),
        Timeout = NullableTimeSpan(reader, 7),
        Deadline = NullableTime(reader, 8),
        LeaseToken = reader.GetInt64(9),
        LeaseExpiresAt = Time(reader, 10),
        TraceParent = NullableString(reader, 11),
        CreatedAt = Time(reader, 12),
        EnqueuedAt = Time(reader, 13),
        BatchId = NullableString(reader, 14),
    };

    public static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    public static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Time(reader, ordinal);

    public static string? NullableString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static TimeSpan? NullableTimeSpan(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<TimeSpan>(ordinal);

    public static JobError[] ReadErrors(string json) =>
        json is "[]" ? [] : JsonSerializer.Deserialize(json, PostgresJsonContext.Default.JobErrorArray) ?? [];

    /// <summary>Errors as the jsonb array that is appended to a job's errors.</summary>
    public static string WriteErrors(IReadOnlyList<JobError> errors) =>
        errors.Count == 0 ? "[]" : JsonSerializer.Serialize([.. errors.Select(WithoutNul)], PostgresJsonContext.Default.JobErrorArray);

    /// <summary>
    /// The error with each U+0000 replaced by U+FFFD: jsonb refuses U+0000, and an exception's message may hold one
    /// (text parsed from bytes); refused, the acknowledgement could never be stored and its job never end.
    /// </summary>
    private static JobError WithoutNul(JobError error) => error with
    {
        Message = WithoutNul(error.Message),
        ExceptionType = WithoutNul(error.ExceptionType),
        Item = WithoutNul(error.Item),
        StackTrace = WithoutNul(error.StackTrace),
    };

    /// <summary>
    /// The text with each U+0000 replaced by U+FFFD (the same instance when it holds none): no PostgreSQL text or jsonb
    /// value can hold U+0000.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? WithoutNul(string? text) => text?.Replace('\0', '\uFFFD');

    /// <summary>
    /// A timestamp as PostgreSQL's timestamptz parameter wants it: UTC (Npgsql refuses other offsets). Precision is
    /// one microsecond; the store's clock values are truncated to it on write, which the conformance clock respects.
    /// </summary>
    public static DateTime Utc(DateTimeOffset value) => value.UtcDateTime;
}
