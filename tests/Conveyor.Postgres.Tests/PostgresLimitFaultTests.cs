using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A concurrency limit on PostgreSQL through faults, with real worker processes (<see cref="LimitFaultScenario"/>): a
/// worker SIGKILLed holding the slot, and the PostgreSQL server restarted (pg_ctl restart) while the slots are full.
/// </summary>
[Collection(ServerRestartCollection.Name)]
public sealed class PostgresLimitFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-postgres-limits-").FullName;
    private ServiceProvider? _client;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        await _schema.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [PostgresFact]
    public async Task WorkerKilledHoldingASlot_FreesItWhenItsLeaseIsRecovered_AndTheLimitHolds()
    {
        var scenario = await CreateScenarioAsync();
        await scenario.KilledWorkerFreesItsSlotWhenItsLeaseIsRecoveredAsync(_directory);
    }

    [PostgresFact]
    public async Task ServerRestarted_WithTheSlotsFull_NoSlotLeaks_AndTheLimitHolds()
    {
        if (PostgresTestServer.BinDirectory is null || PostgresTestServer.DataDirectory is null)
        {
            throw new InvalidOperationException("CONVEYOR_TEST_POSTGRES_BIN and CONVEYOR_TEST_POSTGRES_DATA are not set: start the cluster with eng/services/postgres.sh.");
        }

        var scenario = await CreateScenarioAsync();
        await scenario.StoreRestartNeitherLeaksSlotsNorExceedsTheLimitAsync(_directory, PostgresRestartTests.RestartServerAsync);
    }

    private async Task<LimitFaultScenario> CreateScenarioAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddConveyor().UsePostgres(o =>
        {
            o.ConnectionString = PostgresTestSchema.ConnectionString;
            o.Schema = _schema.Name;
        });
        _client = services.BuildServiceProvider();
        var store = _client.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);
        return new LimitFaultScenario(_client.GetRequiredService<IJobClient>(), store, new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Conveyor__Store"] = "postgres",
            ["Conveyor__Postgres__ConnectionString"] = PostgresTestSchema.ConnectionString,
            ["Conveyor__Postgres__Schema"] = _schema.Name,
        }, output.WriteLine);
    }
}
