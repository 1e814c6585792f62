using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    /// <inheritdoc />
    /// <remarks>One HGETALL of the definitions hash on the coordination slot.</remarks>
    public async ValueTask<IReadOnlyList<LimitRecord>> ListLimitsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var entries = await db.HashGetAllAsync(_keys.LimitDefinitions).ConfigureAwait(false);
            return entries
                .Select(static e => ReadLimit((string)e.Name!, (string)e.Value!))
                .OrderBy(static l => l.Kind)
                .ThenBy(static l => l.Name, StringComparer.Ordinal)
                .ToArray();
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    /// <remarks>put_limit.lua: the source check and the write are one script on the coordination slot.</remarks>
    public async ValueTask<LimitWriteResult> PutLimitAsync(LimitRecord limit, CancellationToken cancellationToken)
    {
        LimitRecords.Validate(limit);
        var l = LimitRecords.Normalize(limit);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            var result = await EvaluateAsync(db, RedisScript.PutLimit, [_keys.LimitDefinitions],
                [LimitField(l.Kind, l.Name), WriteLimit(l, NowMicros()), (int)l.Source]).ConfigureAwait(false);
            return (LimitWriteResult)(int)result;
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DeleteLimitAsync(LimitKind kind, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            return await db.HashDeleteAsync(_keys.LimitDefinitions, LimitField(kind, name)).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            throw RedisFailures.Unavailable(e);
        }
    }

    private static string LimitField(LimitKind kind, string name) => ((int)kind).ToString(CultureInfo.InvariantCulture) + "\n" + name;

    /// <summary>The source digit (what put_limit.lua compares) followed by the definition as JSON.</summary>
    private static string WriteLimit(LimitRecord limit, long updatedAtMicros)
    {
        var buffer = new ArrayBufferWriter<byte>(160);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("queue", limit.Queue);
            if (limit.JobType is { } type)
            {
                writer.WriteString("type", type);
            }

            writer.WriteBoolean("perTenant", limit.PerTenant);
            writer.WriteNumber("limit", limit.Limit);
            writer.WriteNumber("period", limit.Period.Ticks / TimeSpan.TicksPerMicrosecond);
            writer.WriteNumber("burst", limit.Burst);
            writer.WriteNumber("updated", updatedAtMicros);
            writer.WriteEndObject();
        }

        return ((int)limit.Source).ToString(CultureInfo.InvariantCulture) + System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static LimitRecord ReadLimit(string field, string value)
    {
        var separator = field.IndexOf('\n', StringComparison.Ordinal);
        using var document = JsonDocument.Parse(value.AsMemory(1));
        var json = document.RootElement;
        return new LimitRecord
        {
            Kind = (LimitKind)int.Parse(field.AsSpan(0, separator), CultureInfo.InvariantCulture),
            Name = field[(separator + 1)..],
            Source = (LimitSource)(value[0] - '0'),
            Queue = json.GetProperty("queue").GetString()!,
            JobType = json.TryGetProperty("type", out var type) ? type.GetString() : null,
            PerTenant = json.GetProperty("perTenant").GetBoolean(),
            Limit = json.GetProperty("limit").GetInt32(),
            Period = TimeSpan.FromMicroseconds(json.GetProperty("period").GetInt64()),
            Burst = json.GetProperty("burst").GetInt32(),
            UpdatedAt = RedisTime.FromMicros(json.GetProperty("updated").GetInt64()),
        };
    }
}
