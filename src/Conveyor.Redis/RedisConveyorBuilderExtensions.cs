using Conveyor.Redis;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis store.</summary>
public static class RedisConveyorBuilderExtensions
{
    /// <summary>
    /// Stores jobs in Redis (or Redis Cluster). Options bind from the <c>Conveyor:Redis</c> section and are validated
    /// at start; <paramref name="configure"/> runs after binding. The store uses the <see cref="IConnectionMultiplexer"/>
    /// registered in the container if there is one (so the application shares one connection per process), otherwise
    /// it connects with <see cref="RedisStoreOptions.Configuration"/>. Replaces any store registered before.
    /// </summary>
    public static IConveyorBuilder UseRedis(this IConveyorBuilder builder, Action<RedisStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<RedisStoreOptions>()
            .BindFromConfigurationIfPresent(RedisStoreOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true))
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStoreOptions>, RedisStoreOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStoreOptions>, RedisConfigurationValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(static services =>
        {
            var storeOptions = services.GetRequiredService<IOptions<RedisStoreOptions>>().Value;
            var time = services.GetRequiredService<TimeProvider>();
            var logger = services.GetService<ILogger<RedisJobStore>>();
            return services.GetService<IConnectionMultiplexer>() is { } connection
                ? new RedisJobStore(connection, storeOptions, time, logger)
                : new RedisJobStore(storeOptions, time, logger);
        });
        builder.Services.RemoveAll<IJobStore>();
        builder.Services.AddSingleton<IJobStore>(static services => services.GetRequiredService<RedisJobStore>());
        return builder;
    }
}
