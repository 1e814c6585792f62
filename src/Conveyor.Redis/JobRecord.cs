using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// Reads a job hash. Field names are short because every waiting job carries them:
/// <c>ty</c> type, <c>tn</c> tenant, <c>st</c> state, <c>p</c> payload, <c>a</c> attempts, <c>mr</c> max retry,
/// <c>to</c> timeout, <c>dl</c> deadline, <c>sa</c> scheduled-at, <c>uk</c>/<c>uu</c> unique key and until,
/// <c>rt</c> retention, <c>pr</c> progress, <c>r</c>/<c>ru</c> result and its URL, <c>err</c> errors (JSON),
/// <c>tp</c> traceparent, <c>c</c>/<c>u</c>/<c>s</c>/<c>f</c> created, updated, started, completed,
/// <c>e</c> pending since (the place at the head a job handed back keeps), <c>w</c> handed back at (recovered or released: waits from the later of <c>e</c> and <c>w</c>), <c>cr</c> cancel requested, <c>sn</c> snooze reason, <c>lt</c>/<c>le</c>/<c>ls</c> lease token, expiry and server;
/// for workflows (Scripts/flow.lib.lua) <c>dp</c> dependencies (JSON), <c>b</c> batch, <c>fl</c> flow flag, <c>wf</c> unfinished dependencies.
/// Times and durations are unix microseconds.
/// </summary>
internal static class JobRecord
{
    public static JobInfo Read(string id, string queue, IReadOnlyDictionary<string, RedisValue> fields)
    {
        RedisValue Get(string name) => fields.TryGetValue(name, out var value) ? value : RedisValue.Null;
        string? Text(string name) => Get(name) is { IsNull: false } value ? (string?)value : null;
        int Int(string name) => Get(name).TryParse(out int value) ? value : 0;

        var errors = new List<JobError>();
        try
        {
            errors.AddRange(JobErrorJson.Read((byte[]?)Get("err")));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            errors.Add(new JobError(0, $"The job's recorded errors could not be read: {e.Message}", null, null, RedisTime.Instant(Get("u")) ?? DateTimeOffset.UnixEpoch));
        }

        JobState state;
        try
        {
            state = JobStateExtensions.FromStorageName(Text("st") ?? string.Empty);
        }
        catch (FormatException)
        {
            // A record without a readable state is reported as failed, saying why, rather than hidden.
            state = JobState.Failed;
            errors.Add(new JobError(0, $"The job record is corrupt: field st (state) is '{Text("st")}'.", null, null, RedisTime.Instant(Get("u")) ?? DateTimeOffset.UnixEpoch));
        }

        IReadOnlyList<JobDependency> dependsOn = [];
        if (Text("dp") is { Length: > 0 } dependencies)
        {
            try
            {
                dependsOn = DependencyJson.Decode(dependencies);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
            {
                errors.Add(new JobError(0, $"The job's dependencies could not be read: {e.Message}", null, null, RedisTime.Instant(Get("u")) ?? DateTimeOffset.UnixEpoch));
            }
        }

        var created = RedisTime.Instant(Get("c")) ?? DateTimeOffset.UnixEpoch;
        var result = Get("r");
        return new JobInfo
        {
            Id = id,
            Type = Text("ty") ?? string.Empty,
            Queue = queue,
            Tenant = Text("tn") ?? string.Empty,
            State = state,
            Payload = (byte[]?)Get("p") ?? [],
            Attempts = Int("a"),
            MaxRetry = Int("mr"),
            Timeout = RedisTime.Duration(Get("to")),
            Deadline = RedisTime.Instant(Get("dl")),
            ScheduledAt = RedisTime.Instant(Get("sa")),
            UniqueKey = Text("uk"),
            Retention = RedisTime.Duration(SucceededRetention(Get("rt"))) ?? TimeSpan.Zero,
            Progress = Int("pr"),
            Result = result.IsNull ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>((byte[])result!),
            ResultUrl = Text("ru"),
            Errors = errors,
            TraceParent = Text("tp"),
            CreatedAt = created,
            UpdatedAt = RedisTime.Instant(Get("u")) ?? created,
            StartedAt = RedisTime.Instant(Get("s")),
            CompletedAt = RedisTime.Instant(Get("f")),
            CancelRequested = state == JobState.Active && Text("cr") == "1",
            SnoozeReason = Text("sn") is { Length: > 0 } snoozeReason ? snoozeReason : null,
            DependsOn = dependsOn,
            BatchId = Text("b"),
        };
    }

    public static Dictionary<string, RedisValue> Fields(HashEntry[] entries)
    {
        var fields = new Dictionary<string, RedisValue>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            fields[(string)entry.Name!] = entry.Value;
        }

        return fields;
    }

    /// <summary>Field/value pairs as a script returns them (HGETALL inside Lua).</summary>
    public static Dictionary<string, RedisValue> Fields(RedisResult[] pairs)
    {
        var fields = new Dictionary<string, RedisValue>(pairs.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            fields[(string)pairs[i]!] = (RedisValue)pairs[i + 1];
        }

        return fields;
    }

    /// <summary>The succeeded retention of an <c>rt</c> field: the whole value, or its first part when the outcomes differ.</summary>
    private static RedisValue SucceededRetention(RedisValue rt)
    {
        if (rt.IsNullOrEmpty)
        {
            return rt;
        }

        var text = (string)rt!;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? rt : (RedisValue)text[..colon];
    }
}
