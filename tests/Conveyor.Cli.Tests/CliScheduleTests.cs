using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Cli.Tests;

public sealed class CliScheduleTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await CliServer.StartAsync();
        await _server.PostAsync("/schedules", """{"name": "report:nightly", "cron": "30 2 * * *", "time_zone": "Europe/Berlin", "job_type": "report:generate"}""");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SchedulesLs_ShowsEachScheduleWithItsNextFire()
    {
        var table = await _server.RunAsync("schedules", "ls");
        var json = await _server.RunAsync("schedules", "ls", "--json");

        Assert.Equal((0, 0), (table.ExitCode, json.ExitCode));
        Assert.Matches(@"report:nightly\s+30 2 \* \* \*\s+Europe/Berlin\s+report:generate", table.Output);
        var schedule = Assert.Single(JsonDocument.Parse(json.Output).RootElement.GetProperty("schedules").EnumerateArray());
        Assert.Equal(5, schedule.GetProperty("next_fire_times").GetArrayLength());
    }

    [Fact]
    public async Task SchedulesPauseResumeAndTrigger_ActOnTheSchedule()
    {
        var paused = await _server.RunAsync("schedules", "pause", "report:nightly");
        var shown = await _server.RunAsync("schedules", "show", "report:nightly", "--json");
        var resumed = await _server.RunAsync("schedules", "resume", "report:nightly");
        var triggered = await _server.RunAsync("schedules", "trigger", "report:nightly", "--json");

        Assert.Equal((0, 0, 0, 0), (paused.ExitCode, shown.ExitCode, resumed.ExitCode, triggered.ExitCode));
        Assert.True(JsonDocument.Parse(shown.Output).RootElement.GetProperty("paused").GetBoolean());
        var jobId = JsonDocument.Parse(triggered.Output).RootElement.GetProperty("job_id").GetString()!;
        Assert.Equal("report:generate", (await _server.Jobs.GetJobAsync(jobId, "tenant-a"))!.Type);
    }

    [Fact]
    public async Task WithAnAdminKey_TenantNamesTheSchedulesTenant_AndStarListsEveryTenants()
    {
        await _server.Services.GetRequiredService<IScheduleClient>().CreateAsync(new ScheduleDefinition
        {
            Tenant = TenantId.Default, Name = "cleanup", Cron = "0 3 * * *", JobType = "note:archive",
        });

        var own = await _server.RunAsync("schedules", "ls", "--json");
        var every = await _server.RunAsync("schedules", "ls", "--tenant", "*");
        var paused = await _server.RunAsync("schedules", "pause", "cleanup", "--tenant", "default");
        var shown = await _server.RunAsync("schedules", "show", "cleanup", "--tenant", "default", "--json");
        var elsewhere = await _server.RunAsync("schedules", "show", "cleanup");

        Assert.Equal((0, 0, 0, 0), (own.ExitCode, every.ExitCode, paused.ExitCode, shown.ExitCode));
        Assert.Single(JsonDocument.Parse(own.Output).RootElement.GetProperty("schedules").EnumerateArray());
        Assert.Matches(@"default\s+cleanup\s+0 3 \* \* \*", every.Output);
        Assert.Matches(@"tenant-a\s+report:nightly", every.Output);
        Assert.True(JsonDocument.Parse(shown.Output).RootElement.GetProperty("paused").GetBoolean());
        Assert.Equal(ExitCodes.NotFound, elsewhere.ExitCode);
    }

    [Fact]
    public async Task SchedulesShow_AnUnknownName_IsNotFound()
    {
        var run = await _server.RunAsync("schedules", "show", "report:none");

        Assert.Equal(ExitCodes.NotFound, run.ExitCode);
    }
}
