using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A concurrency limit on Redis through faults, with real worker processes (<see cref="LimitFaultScenario"/>): a worker
/// SIGKILLed holding the slot, and a Redis killed and started again (append-only file, fsync always) while the slots are
/// full. The restart runs on a redis-server of its own, on a free port.
/// </summary>
public sealed class RedisLimitFaultTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly string _prefix = RedisTestEnvironment.NewPrefix();
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-redis-limits-").FullName;
    private ServiceProvider? _client;

    [RedisFact]
    public async Task WorkerKilledHoldingASlot_FreesItWhenItsLeaseIsRecovered_AndTheLimitHolds()
    {
        var scenario = await CreateScenarioAsync(RedisTestEnvironment.Endpoint!);
        await scenario.KilledWorkerFreesItsSlotWhenItsLeaseIsRecoveredAsync(_directory);
    }

    [RedisFact]
    public async Task RedisKilledAndRestarted_WithTheSlotsFull_NoSlotLeaks_AndTheLimitHolds()
    {
        await using var server = await RedisServerProcess.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var scenario = await CreateScenarioAsync(server.Endpoint);
        await scenario.StoreRestartNeitherLeaksSlotsNorExceedsTheLimitAsync(_directory, async () =>
        {
            await server.KillAsync();
            await server.StartAgainAsync();
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<LimitFaultScenario> CreateScenarioAsync(string endpoint)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddConveyor().UseRedis(o =>
        {
            o.Configuration = endpoint;
            o.KeyPrefix = _prefix;
        });
        _client = services.BuildServiceProvider();
        var store = _client.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);
        return new LimitFaultScenario(_client.GetRequiredService<IJobClient>(), store, new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Conveyor__Store"] = "redis",
            ["Conveyor__Redis__Configuration"] = endpoint,
            ["Conveyor__Redis__KeyPrefix"] = _prefix,
        }, output.WriteLine);
    }
}
