using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>Three real server processes on one SQLite file fire a schedule every second: one job per tick, also through a SIGKILL.</summary>
public sealed class ScheduleExactlyOnceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-schedule-").FullName;

    [Fact]
    public async Task ThreeServers_OneKilledAndRestarted_EveryTickHasExactlyOneJob()
    {
        var path = Path.Combine(_directory, "jobs.db");
        var services = new ServiceCollection();
        services.AddConveyor().UseSqlite(o => o.Path = path);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);

        await ThreeServerScheduleRun.RunAsync(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = path },
            store, provider.GetRequiredService<IScheduleClient>(), output);
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
