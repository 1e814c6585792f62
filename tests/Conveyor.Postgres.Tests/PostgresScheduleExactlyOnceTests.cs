using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Postgres.Tests;

/// <summary>Three real server processes on one PostgreSQL schema fire a schedule every second: one job per tick, also through a SIGKILL.</summary>
[Collection(ServerRestartCollection.Name)]
public sealed class PostgresScheduleExactlyOnceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresFact]
    public async Task ThreeServers_OneKilledAndRestarted_EveryTickHasExactlyOneJob()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddConveyor().UsePostgres(o =>
        {
            o.ConnectionString = PostgresTestSchema.ConnectionString;
            o.Schema = _schema.Name;
        });
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);

        await ThreeServerScheduleRun.RunAsync(Path.GetTempPath(), new Dictionary<string, string>
        {
            ["Conveyor__Store"] = "postgres",
            ["Conveyor__Postgres__ConnectionString"] = PostgresTestSchema.ConnectionString,
            ["Conveyor__Postgres__Schema"] = _schema.Name,
        }, store, provider.GetRequiredService<IScheduleClient>(), output);
    }
}
