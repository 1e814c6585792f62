using Conveyor.Storage;
using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite.Internal;

/// <summary>Reads a row of GetJob.sql or ListJobs.sql (they select the same columns in the same order).</summary>
internal static class JobRecord
{
    public static JobInfo Read(SqliteDataReader reader)
    {
        var state = JobStateExtensions.FromStorageName(reader.GetString(4));
        return new JobInfo
        {
            Id = reader.GetString(0),
            Type = reader.GetString(1),
            Queue = reader.GetString(2),
            Tenant = reader.GetString(3),
            State = state,
            Attempts = reader.GetInt32(5),
            MaxRetry = reader.GetInt32(6),
            Timeout = reader.GetNullableInt64(7) is { } timeout ? UnixTime.DurationFromMicroseconds(timeout) : null,
            Deadline = ReadTime(reader, 8),
            ScheduledAt = ReadTime(reader, 9),
            UniqueKey = reader.GetNullableString(10),
            Retention = UnixTime.DurationFromMicroseconds(reader.GetInt64(11)),
            Progress = reader.GetInt32(12),
            TraceParent = reader.GetNullableString(13),
            CreatedAt = UnixTime.FromMicroseconds(reader.GetInt64(14)),
            UpdatedAt = UnixTime.FromMicroseconds(reader.GetInt64(15)),
            StartedAt = ReadTime(reader, 16),
            CompletedAt = ReadTime(reader, 17),
            CancelRequested = state == JobState.Active && reader.GetInt64(18) != 0,
            ResultUrl = reader.GetNullableString(19),
            Payload = reader.GetFieldValue<byte[]>(20),
            Result = reader.IsDBNull(21) ? null : (ReadOnlyMemory<byte>?)reader.GetFieldValue<byte[]>(21),
            Errors = JobErrorLines.Decode(reader.GetString(22)),
            SnoozeReason = reader.GetNullableString(23),
            BatchId = reader.GetNullableString(24),
            DependsOn = reader.GetNullableString(25) is { } dependsOn ? DependencyJson.Decode(dependsOn) : [],
        };
    }

    public static DateTimeOffset? ReadTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : UnixTime.FromMicroseconds(reader.GetInt64(ordinal));
}
