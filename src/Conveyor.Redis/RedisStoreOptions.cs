using System.ComponentModel.DataAnnotations;
using Conveyor.Configuration;

namespace Conveyor.Redis;

/// <summary>
/// Settings of the Redis store, bound from the <c>Conveyor:Redis</c> configuration section.
/// </summary>
public sealed class RedisStoreOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Conveyor:Redis";

    /// <summary>The default <see cref="Configuration"/>: a Redis on this machine's default port.</summary>
    public const string DefaultConfiguration = "localhost:6379";

    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "conveyor";

    /// <summary>The default <see cref="WaitForReplicasTimeout"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultWaitForReplicasTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A StackExchange.Redis configuration string: endpoints and options such as <c>password=</c>, <c>ssl=true</c>,
    /// <c>defaultDatabase=</c>, <c>connectTimeout=</c>, e.g. <c>"redis-1:6379,redis-2:6379,password=…,ssl=true"</c>.
    /// Used only when no <c>IConnectionMultiplexer</c> is registered in dependency injection.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Conveyor:Redis:Configuration is required: the Redis servers as host:port and options as name=value, separated by commas (e.g. localhost:6379,password=…).")]
    public string Configuration { get; set; } = DefaultConfiguration;

    /// <summary>
    /// The first segment of every key and channel the store uses, so that several Conveyor deployments can share
    /// one Redis. 1–64 characters of letters, digits, '_', '-', '.' and ':'; default <c>conveyor</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Conveyor:Redis:KeyPrefix is required: 1–64 characters of letters, digits, '_', '-', '.' and ':'.")]
    [RegularExpression("^[A-Za-z0-9_.:-]{1,64}$", ErrorMessage = "Conveyor:Redis:KeyPrefix must be 1–64 characters of letters, digits, '_', '-', '.' and ':' (no braces: they would change Redis Cluster hash slots).")]
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// How many replicas of each primary written must have a create (jobs, batches, workflows, a publish) or a signal
    /// before it is answered as stored (Redis <c>WAIT</c>); fewer within <see cref="WaitForReplicasTimeout"/> fail it as
    /// unavailable (503 over HTTP), its writes possibly stored. Redis replicates asynchronously: with 0 (the default) a
    /// write a primary acknowledged can be lost when it fails over before its replica has it, and a primary frozen past
    /// its failover acknowledges writes when it wakes, then discards them. 0–16; each wait holds the process's connection
    /// to that primary until the replicas answer (docs/redis.md, "Acknowledged writes and failover").
    /// </summary>
    [SettingRange(0, 16, ErrorMessage = "Conveyor:Redis:WaitForReplicas must be between {1} and {2}.")]
    public int WaitForReplicas { get; set; }

    /// <summary>With <see cref="WaitForReplicas"/>: the longest a create waits for its replicas. 1 ms – 1 min, default 1 s.</summary>
    [SettingRange("00:00:00.001", "00:01:00", ErrorMessage = "Conveyor:Redis:WaitForReplicasTimeout must be between {1} and {2}.")]
    public TimeSpan WaitForReplicasTimeout { get; set; } = DefaultWaitForReplicasTimeout;
}
