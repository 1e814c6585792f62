using System.Buffers;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.Redis;

/// <summary>A server registration as JSON, written and read without reflection.</summary>
internal static class ServerInfoJson
{
    public static byte[] Write(ServerInfo server)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", server.Id);
            writer.WriteString("host", server.Host);
            writer.WriteNumber("pid", server.ProcessId);
            writer.WriteStartObject("queues");
            foreach (var (queue, weight) in server.Queues)
            {
                writer.WriteNumber(queue, weight);
            }

            writer.WriteEndObject();
            writer.WriteNumber("concurrency", server.Concurrency);
            writer.WriteNumber("active", server.ActiveJobs);
            writer.WriteNumber("started", RedisTime.ToMicros(server.StartedAt));
            writer.WriteNumber("heartbeat", RedisTime.ToMicros(server.LastHeartbeatAt));
            writer.WriteNumber("expires", RedisTime.ToMicros(server.ExpiresAt));
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static ServerInfo Read(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var queues = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in root.GetProperty("queues").EnumerateObject())
        {
            queues[property.Name] = property.Value.GetInt32();
        }

        return new ServerInfo
        {
            Id = root.GetProperty("id").GetString()!,
            Host = root.GetProperty("host").GetString()!,
            ProcessId = root.GetProperty("pid").GetInt32(),
            Queues = queues,
            Concurrency = root.GetProperty("concurrency").GetInt32(),
            ActiveJobs = root.GetProperty("active").GetInt32(),
            StartedAt = RedisTime.FromMicros(root.GetProperty("started").GetInt64()),
            LastHeartbeatAt = RedisTime.FromMicros(root.GetProperty("heartbeat").GetInt64()),
            ExpiresAt = RedisTime.FromMicros(root.GetProperty("expires").GetInt64()),
        };
    }
}
