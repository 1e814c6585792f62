using System.Globalization;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// Instants and durations as the store keeps them: whole unix microseconds, exact in a Lua number (a double)
/// until the year 2255, and the precision the other stores and <see cref="Conveyor.Storage.JobCursor"/> keep.
/// </summary>
internal static class RedisTime
{
    public static long ToMicros(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static long ToMicros(TimeSpan value) => value.Ticks / 10;

    public static DateTimeOffset FromMicros(long micros) => new(DateTimeOffset.UnixEpoch.UtcTicks + (micros * 10), TimeSpan.Zero);

    public static string Format(long micros) => micros.ToString(CultureInfo.InvariantCulture);

    public static RedisValue Value(DateTimeOffset? value) => value is { } v ? Format(ToMicros(v)) : RedisValue.EmptyString;

    public static RedisValue Value(TimeSpan? value) => value is { } v ? Format(ToMicros(v)) : RedisValue.EmptyString;

    public static bool TryParse(RedisValue value, out long micros)
    {
        micros = 0;
        return !value.IsNullOrEmpty && long.TryParse((string?)value, NumberStyles.Integer, CultureInfo.InvariantCulture, out micros);
    }

    public static DateTimeOffset? Instant(RedisValue value) => TryParse(value, out var micros) ? FromMicros(micros) : null;

    public static TimeSpan? Duration(RedisValue value) => TryParse(value, out var micros) ? TimeSpan.FromTicks(micros * 10) : null;
}
