using Conveyor.Postgres;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses the PostgreSQL store: <c>services.AddConveyor().UsePostgres();</c></summary>
public static class PostgresConveyorBuilderExtensions
{
    /// <summary>
    /// Stores jobs in PostgreSQL. Settings bind from <c>Conveyor:Postgres</c> (<see cref="PostgresStoreOptions"/>)
    /// and are validated at start. When the application registers an <see cref="NpgsqlDataSource"/> (for example
    /// with <c>AddNpgsqlDataSource</c>) the store uses it, so jobs and the application share one pool; otherwise it
    /// builds its own from <see cref="PostgresStoreOptions.ConnectionString"/>. <see cref="PostgresJobStore"/> is
    /// registered too, for transactional enqueue.
    /// </summary>
    public static IConveyorBuilder UsePostgres(this IConveyorBuilder builder, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<PostgresStoreOptions>().BindFromConfigurationIfPresent(PostgresStoreOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStoreOptions>, PostgresStoreOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStoreOptions>, PostgresConnectionStringValidator>());
        options
            .Validate<IServiceProvider>(
                static (o, sp) => !string.IsNullOrWhiteSpace(o.ConnectionString) || sp.GetService<NpgsqlDataSource>() is not null,
                "Conveyor:Postgres:ConnectionString is required when no NpgsqlDataSource is registered (e.g. \"Host=db;Database=app;Username=app;Password=...\").")
            .ValidateOnStart();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(static sp =>
        {
            var settings = sp.GetRequiredService<IOptions<PostgresStoreOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var logger = sp.GetService<ILogger<PostgresJobStore>>();
            return sp.GetService<NpgsqlDataSource>() is { } dataSource
                ? new PostgresJobStore(dataSource, settings, time, logger)
                : new PostgresJobStore(settings, time, logger);
        });
        builder.Services.RemoveAll<IJobStore>();
        builder.Services.AddSingleton<IJobStore>(static sp => sp.GetRequiredService<PostgresJobStore>());
        return builder;
    }
}
