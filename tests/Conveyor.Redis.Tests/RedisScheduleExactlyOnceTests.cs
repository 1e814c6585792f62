using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Redis.Tests;

/// <summary>Three real server processes on one Redis fire a schedule every second: one job per tick, also through a SIGKILL.</summary>
public sealed class RedisScheduleExactlyOnceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _prefix = RedisTestEnvironment.NewPrefix();
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-redis-schedule-").FullName;

    [RedisFact]
    public async Task ThreeServers_OneKilledAndRestarted_EveryTickHasExactlyOneJob()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddConveyor().UseRedis(o =>
        {
            o.Configuration = RedisTestEnvironment.Endpoint!;
            o.KeyPrefix = _prefix;
        });
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);

        await ThreeServerScheduleRun.RunAsync(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Store"] = "redis",
            ["Conveyor__Redis__Configuration"] = RedisTestEnvironment.Endpoint!,
            ["Conveyor__Redis__KeyPrefix"] = _prefix,
        }, store, provider.GetRequiredService<IScheduleClient>(), output);
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
