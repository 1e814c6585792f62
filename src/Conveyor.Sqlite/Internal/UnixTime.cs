using Conveyor.Storage;

namespace Conveyor.Sqlite.Internal;

/// <summary>
/// Times are stored as microseconds since the Unix epoch and durations as microseconds: the precision of
/// <see cref="JobCursor"/> and of PostgreSQL, so every store round-trips the same values.
/// </summary>
internal static class UnixTime
{
    public static long ToMicroseconds(DateTimeOffset value) => JobCursor.ToUnixMicroseconds(value);

    public static long ToMicroseconds(TimeSpan duration) => duration.Ticks / TimeSpan.TicksPerMicrosecond;

    public static object ToDbValue(DateTimeOffset? value) => value is { } v ? ToMicroseconds(v) : DBNull.Value;

    public static object ToDbValue(TimeSpan? value) => value is { } v ? ToMicroseconds(v) : DBNull.Value;

    public static DateTimeOffset FromMicroseconds(long microseconds) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (microseconds * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    public static TimeSpan DurationFromMicroseconds(long microseconds) =>
        TimeSpan.FromTicks(microseconds * TimeSpan.TicksPerMicrosecond);
}
