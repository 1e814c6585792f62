using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Conveyor.Redis;

/// <summary>
/// One Lua script of Scripts/*.lua (embedded). The store loads every script on every primary when it starts
/// (SCRIPT LOAD) and runs them by SHA1 (EVALSHA); a server that answers NOSCRIPT (restarted, failed over, or
/// flushed) gets the script's text once (EVAL), which loads it again.
/// </summary>
/// <remarks>
/// Every script opens with a shebang that declares its flags (Redis 7), so that a full Redis (<c>maxmemory</c> with
/// <c>noeviction</c>) refuses a script that writes before it runs any command, with an <c>OOM</c> error the store
/// reads as unavailable. Without flags Redis refuses a script only at its first command that may grow memory, and
/// lets it through when a command that shrinks it came first: dequeue (RPOP) and recovery (ZREM) went on while
/// lease renewals and acknowledgements (HSET, ZADD first) were refused, so a full Redis was half up. The recoverer saw
/// no outage and recovered the leases the server could not renew, and the server leased again, and ran again, jobs
/// whose results it could not store. Reads declare <c>no-writes</c> and run on a full Redis; the retention scripts,
/// which only delete, declare <c>allow-oom</c> so that retention still frees memory. Every script keeps the
/// unflagged scripts' leave to reach keys of other slots on its node (<c>allow-cross-slot-keys</c>).
/// </remarks>
internal sealed class RedisScript
{
    private RedisScript(string name, string text, ScriptFlags flags)
    {
        Name = name;
        Text = Shebang(flags) + text;
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
    }

    public string Name { get; }

    public string Text { get; }

    /// <summary>The SHA1 digest Redis knows the script by.</summary>
    public byte[] Sha1 { get; }

    public static IReadOnlyList<RedisScript> All => [Enqueue, Dequeue, Acknowledge, ExtendLeases, ListLeases, ReportProgress, Recover, Promote, Purge, Trim, Cancel, Requeue, Delete, QueueStats, List, ClaimId, CompareAndDelete, CompareAndSet, AcquireLock, ReleaseLock, BeginIdempotencyKey, ExtendIdempotencyKeys, CompleteIdempotencyKey, ReleaseIdempotencyKey, PurgeCoordination, ScheduleCreate, ScheduleReplace, ScheduleFire, EnqueueAll, Bulk, AcquireRatePermits, SaveStep, PutLimit, BatchCancel, AwaitSignal, Signal, OutboxApply, FlowLink, BatchJoin, BatchList];

    public static RedisScript Enqueue { get; } = Queue("enqueue");

    public static RedisScript Dequeue { get; } = Queue("dequeue");

    public static RedisScript Acknowledge { get; } = Queue("acknowledge");

    public static RedisScript ExtendLeases { get; } = Queue("extend_leases");

    public static RedisScript ListLeases { get; } = Queue("list_leases", ScriptFlags.Reads);

    public static RedisScript ReportProgress { get; } = Queue("report_progress");

    public static RedisScript SaveStep { get; } = Queue("save_step");

    public static RedisScript AwaitSignal { get; } = Queue("await_signal");

    public static RedisScript Signal { get; } = Queue("signal");

    public static RedisScript Recover { get; } = Queue("recover");

    public static RedisScript Promote { get; } = Queue("promote");

    public static RedisScript Purge { get; } = Queue("purge", ScriptFlags.OnlyDeletes);

    public static RedisScript Trim { get; } = Queue("trim", ScriptFlags.OnlyDeletes);

    public static RedisScript Cancel { get; } = Queue("cancel");

    public static RedisScript Requeue { get; } = Queue("requeue");

    public static RedisScript Delete { get; } = Queue("delete");

    public static RedisScript Bulk { get; } = Queue("bulk");

    public static RedisScript QueueStats { get; } = Queue("queue_stats", ScriptFlags.Reads);

    public static RedisScript List { get; } = Queue("list", ScriptFlags.Reads);

    public static RedisScript EnqueueAll { get; } = Flow("enqueue_all");

    public static RedisScript BatchCancel { get; } = Flow("batch_cancel");

    public static RedisScript OutboxApply { get; } = Flow("outbox_apply");

    public static RedisScript FlowLink { get; } = Flow("flow_link");

    public static RedisScript BatchJoin { get; } = Plain("batch_join");

    public static RedisScript BatchList { get; } = Plain("batch_list", ScriptFlags.Reads);

    public static RedisScript ClaimId { get; } = Plain("claim_id");

    public static RedisScript CompareAndDelete { get; } = Plain("compare_and_delete", ScriptFlags.OnlyDeletes);

    public static RedisScript CompareAndSet { get; } = Plain("compare_and_set");

    public static RedisScript AcquireLock { get; } = Plain("acquire_lock");

    public static RedisScript ReleaseLock { get; } = Plain("release_lock", ScriptFlags.OnlyDeletes);

    public static RedisScript BeginIdempotencyKey { get; } = Plain("begin_idempotency_key");

    public static RedisScript ExtendIdempotencyKeys { get; } = Plain("extend_idempotency_keys");

    public static RedisScript CompleteIdempotencyKey { get; } = Plain("complete_idempotency_key");

    public static RedisScript ReleaseIdempotencyKey { get; } = Plain("release_idempotency_key", ScriptFlags.OnlyDeletes);

    public static RedisScript PurgeCoordination { get; } = Plain("purge_coordination", ScriptFlags.OnlyDeletes);

    public static RedisScript AcquireRatePermits { get; } = Plain("acquire_rate_permits");

    public static RedisScript PutLimit { get; } = Plain("put_limit");

    public static RedisScript ScheduleCreate { get; } = Plain("schedule_create");

    public static RedisScript ScheduleReplace { get; } = Plain("schedule_replace");

    public static RedisScript ScheduleFire { get; } = Plain("schedule_fire");

    // flow.lib.lua first: queue.lib.lua's finish calls its flow_finished.
    private static RedisScript Queue(string name, ScriptFlags flags = ScriptFlags.Writes) =>
        new(name, FlowLib() + Read("queue.lib") + Read(name), flags);

    private static RedisScript Flow(string name, ScriptFlags flags = ScriptFlags.Writes) => new(name, FlowLib() + Read(name), flags);

    // The scripts trim a job's errors to the number core keeps, so the number lives in one place.
    private static string FlowLib() =>
        Read("flow.lib").Replace("@ERRORS_KEPT@", JobError.MaxKeptPerJob.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static RedisScript Plain(string name, ScriptFlags flags = ScriptFlags.Writes) => new(name, Read(name), flags);

    private static string Shebang(ScriptFlags flags) => flags switch
    {
        ScriptFlags.Reads => "#!lua flags=no-writes,allow-cross-slot-keys\n",
        ScriptFlags.OnlyDeletes => "#!lua flags=allow-oom,allow-cross-slot-keys\n",
        _ => "#!lua flags=allow-cross-slot-keys\n",
    };

    private static string Read(string name)
    {
        var resource = $"Conveyor.Redis.Scripts.{name}.lua";
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded script {resource} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
