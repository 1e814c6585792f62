using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Conveyor.Postgres.Tests;

public sealed class PostgresConveyorBuilderExtensionsTests
{
    private static ServiceCollection Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        return services;
    }

    [Fact]
    public async Task UsePostgres_FromConfiguration_RegistersThePostgresStoreAsTheJobStore()
    {
        var services = Services(new()
        {
            ["Conveyor:Postgres:ConnectionString"] = "Host=127.0.0.1;Port=1;Database=none",
            ["Conveyor:Postgres:Schema"] = "jobs_here",
        });
        services.AddConveyor().UsePostgres();
        await using var provider = services.BuildServiceProvider();

        var store = Assert.IsType<PostgresJobStore>(provider.GetRequiredService<IJobStore>());

        Assert.Same(store, provider.GetRequiredService<PostgresJobStore>());
        Assert.Equal("jobs_here", store.Schema);
        Assert.Equal("postgres", store.Name);
    }

    [Fact]
    public async Task UsePostgres_ConfigureDelegate_OverridesConfiguration()
    {
        var services = Services(new() { ["Conveyor:Postgres:ConnectionString"] = "Host=127.0.0.1;Port=1;Database=none" });
        services.AddConveyor().UsePostgres(o => o.Schema = "other");
        await using var provider = services.BuildServiceProvider();

        Assert.Equal("other", provider.GetRequiredService<PostgresJobStore>().Schema);
    }

    [Fact]
    public async Task UsePostgres_InvalidSchema_FailsValidationNamingTheSettingAndTheRule()
    {
        var services = Services(new()
        {
            ["Conveyor:Postgres:ConnectionString"] = "Host=127.0.0.1;Port=1;Database=none",
            ["Conveyor:Postgres:Schema"] = "Bad-Name",
        });
        services.AddConveyor().UsePostgres();
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PostgresStoreOptions>>().Value);

        Assert.Contains("Conveyor:Postgres:Schema: The schema must be 1 to 48 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsePostgres_NoConnectionStringAndNoDataSource_FailsValidationNamingTheSetting()
    {
        var services = Services([]);
        services.AddConveyor().UsePostgres();
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PostgresStoreOptions>>().Value);

        Assert.Contains("Conveyor:Postgres:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task UsePostgres_DataSourceRegistered_TheStoreUsesIt()
    {
        await using var schema = new PostgresTestSchema();
        var services = Services(new() { ["Conveyor:Postgres:Schema"] = schema.Name });
        await using var dataSource = NpgsqlDataSource.Create(PostgresTestSchema.ConnectionString);
        services.AddSingleton(dataSource);
        services.AddConveyor().UsePostgres();
        await using (var provider = services.BuildServiceProvider())
        {
            var store = provider.GetRequiredService<IJobStore>();
            await store.InitializeAsync(CancellationToken.None);
            await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        }

        // The provider disposed the store, not the application's data source.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM \"{schema.Name}\".jobs");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// An application that only enqueues (no AddServer) on a new schema: its host opens the store at start, so the
    /// migrations are applied and its enqueues are stored. Before, nothing opened it and every enqueue failed with the
    /// schema missing until a worker process had started once on that schema.
    /// </summary>
    [PostgresFact]
    public async Task UsePostgres_InAHostWithoutAServer_OpensTheStoreAtStart_SoItsEnqueuesOnANewSchemaAreStored()
    {
        await using var schema = new PostgresTestSchema();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Postgres:ConnectionString"] = PostgresTestSchema.ConnectionString,
            ["Conveyor:Postgres:Schema"] = schema.Name,
        });
        builder.Services.AddConveyor().UsePostgres();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IJobClient>();

        // The opener runs in the background (the start is not held up): an enqueue before it is done fails as in an outage.
        EnqueueResult? enqueued = null;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (enqueued is null)
        {
            try
            {
                enqueued = await client.EnqueueAsync("test:only-enqueued", "{}"u8.ToArray());
            }
            catch (JobStoreUnavailableException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal(1L, await schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.jobs"));
        Assert.Equal(JobState.Pending, (await host.Services.GetRequiredService<IJobStore>().GetAsync(TenantId.Default, enqueued.JobId, CancellationToken.None))!.State);
        await host.StopAsync();
    }
}
