using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>
/// A concurrency limit on SQLite through a worker SIGKILLed holding the slot (<see cref="LimitFaultScenario"/>); the
/// Redis and PostgreSQL test projects run the same scenario and a store restart.
/// </summary>
public sealed class LimitCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-limits-").FullName;

    [Fact]
    public async Task WorkerKilledHoldingASlot_FreesItWhenItsLeaseIsRecovered_AndTheLimitHolds()
    {
        var path = Path.Combine(_directory, "jobs.db");
        var services = new ServiceCollection();
        services.AddConveyor().UseSqlite(o => o.Path = path);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);
        var scenario = new LimitFaultScenario(provider.GetRequiredService<IJobClient>(), store, new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = path,
        }, output.WriteLine);

        await scenario.KilledWorkerFreesItsSlotWhenItsLeaseIsRecoveredAsync(_directory);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
