using Conveyor.Sqlite;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the embedded SQLite store.</summary>
public static class SqliteConveyorBuilderExtensions
{
    /// <summary>
    /// Stores jobs in one SQLite file (default <c>conveyor.db</c> in the working directory), created with its
    /// schema on first use and shareable by the processes of one machine. Settings are bound from the
    /// configuration section <c>Conveyor:Sqlite</c>, then <paramref name="configure"/> runs; they are validated
    /// at start-up.
    /// </summary>
    public static IConveyorBuilder UseSqlite(this IConveyorBuilder builder, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var options = builder.Services.AddOptions<SqliteStoreOptions>().BindFromConfigurationIfPresent("Conveyor:Sqlite", static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(static services => new SqliteJobStore(
            services.GetRequiredService<IOptions<SqliteStoreOptions>>().Value,
            services.GetRequiredService<TimeProvider>()));

        // The last store chosen wins, whatever AddConveyor registered as a default.
        builder.Services.Replace(ServiceDescriptor.Singleton<IJobStore>(static services => services.GetRequiredService<SqliteJobStore>()));
        return builder;
    }
}
