using System.ComponentModel.DataAnnotations;

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

    /// <summary>
    /// A StackExchange.Redis configuration string: endpoints and options such as <c>password=</c>, <c>ssl=true</c>,
    /// <c>defaultDatabase=</c>, <c>connectTimeout=</c>, e.g. <c>"redis-1:6379,redis-2:6379,password=…,ssl=true"</c>.
    /// Used only when no <c>IConnectionMultiplexer</c> is registered in dependency injection.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string Configuration { get; set; } = DefaultConfiguration;

    /// <summary>
    /// The first segment of every key and channel the store uses, so that several Conveyor deployments can share
    /// one Redis. 1–64 characters of letters, digits, '_', '-', '.' and ':'; default <c>conveyor</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[A-Za-z0-9_.:-]{1,64}$", ErrorMessage = "Conveyor:Redis:KeyPrefix must be 1–64 characters of letters, digits, '_', '-', '.' and ':' (no braces: they would change Redis Cluster hash slots).")]
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;
}
