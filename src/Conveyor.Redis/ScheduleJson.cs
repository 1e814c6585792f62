using System.Buffers;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.Redis;

/// <summary>A schedule's definition as JSON (its next tick and history live beside it), written and read without reflection.</summary>
internal static class ScheduleJson
{
    public static byte[] Write(ScheduleRecord schedule, long updatedAtMicros)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("cron", schedule.Cron);
            writer.WriteString("tz", schedule.TimeZone);
            writer.WriteString("type", schedule.JobType);
            writer.WriteBase64String("payload", schedule.Payload.Span);
            if (schedule.Queue is { } queue)
            {
                writer.WriteString("queue", queue);
            }

            if (schedule.MaxRetry is { } maxRetry)
            {
                writer.WriteNumber("maxRetry", maxRetry);
            }

            if (schedule.Timeout is { } timeout)
            {
                writer.WriteNumber("timeout", RedisTime.ToMicros(timeout));
            }

            writer.WriteNumber("misfire", (int)schedule.Misfire);
            writer.WriteNumber("overlap", (int)schedule.Overlap);
            writer.WriteBoolean("paused", schedule.Paused);
            writer.WriteNumber("origin", (int)schedule.Origin);
            writer.WriteNumber("updated", updatedAtMicros);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The schedule from its member (tenant \n name), definition, next tick score and history (created|last fire|last job).</summary>
    public static ScheduleRecord Read(string member, byte[] definition, double? nextTick, string? history)
    {
        var separator = member.IndexOf('\n', StringComparison.Ordinal);
        using var document = JsonDocument.Parse(definition);
        var root = document.RootElement;
        var parts = (history ?? "||").Split('|', 3);
        return new ScheduleRecord
        {
            Tenant = member[..separator],
            Name = member[(separator + 1)..],
            Cron = root.GetProperty("cron").GetString()!,
            TimeZone = root.GetProperty("tz").GetString()!,
            JobType = root.GetProperty("type").GetString()!,
            Payload = root.GetProperty("payload").GetBytesFromBase64(),
            Queue = root.TryGetProperty("queue", out var queue) ? queue.GetString() : null,
            MaxRetry = root.TryGetProperty("maxRetry", out var maxRetry) ? maxRetry.GetInt32() : null,
            Timeout = root.TryGetProperty("timeout", out var timeout) ? TimeSpan.FromTicks(timeout.GetInt64() * 10) : null,
            Misfire = (MisfirePolicy)root.GetProperty("misfire").GetInt32(),
            Overlap = (OverlapPolicy)root.GetProperty("overlap").GetInt32(),
            Paused = root.GetProperty("paused").GetBoolean(),
            Origin = (ScheduleOrigin)root.GetProperty("origin").GetInt32(),
            NextFireAt = nextTick is { } next ? RedisTime.FromMicros((long)next) : null,
            LastFireAt = RedisTime.Instant(parts[1]),
            LastJobId = parts.Length > 2 && parts[2].Length > 0 ? parts[2] : null,
            CreatedAt = RedisTime.Instant(parts[0]) ?? DateTimeOffset.UnixEpoch,
            UpdatedAt = RedisTime.FromMicros(root.GetProperty("updated").GetInt64()),
        };
    }

    public static string Member(string tenant, string name) => $"{tenant}\n{name}";
}
