using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Conveyor.Server.Tests;

/// <summary>The real server process: what it says while draining, a second stop signal, and where it keeps its data.</summary>
public sealed class ShutdownAndDataTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-stop-").FullName;

    [Fact]
    public async Task DuringTheGrace_HealthzAnswersDraining_AndASecondSigtermReturnsTheRunningJobAtOnce()
    {
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["Conveyor__Server__ShutdownTimeout"] = "00:10:00",
        };
        using var server = WorkerProcess.Start(_directory, settings);
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(60)) };
        using var created = await http.PostAsync("/jobs", new StringContent("""{"type": "demo:sleep", "payload": {"seconds": 600}}""", Encoding.UTF8, "application/json"));
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        await WaitUntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>($"/jobs/{jobId}")).GetProperty("status").GetString() == "RUNNING", server);

        server.Terminate();
        await WaitUntilAsync(() => Task.FromResult(server.Output.Contains("stopping: 1 running jobs", StringComparison.Ordinal)), server);
        using var health = await http.GetAsync("/healthz");
        using var ready = await http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("draining", (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.False(server.HasExited);

        server.Terminate();
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "a second SIGTERM did not end the grace period:\n" + server.Output);
        Assert.Equal(0, server.ExitCode);
        Assert.Contains("Second stop signal", server.Output, StringComparison.Ordinal);
        Assert.Contains($"Job {jobId} (demo:sleep, queue default) attempt 1: released by the shutdown", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutSettings_TheDatabaseGoesToTheUsersDataDirectory_NotTheWorkingDirectory_AndTheStartLineSaysWhere()
    {
        var home = Path.Combine(_directory, "xdg-data");
        var work = Directory.CreateDirectory(Path.Combine(_directory, "source-tree")).FullName;
        var settings = new Dictionary<string, string> { ["Conveyor__DataDirectory"] = "", ["XDG_DATA_HOME"] = home };
        using var server = WorkerProcess.Start(work, settings);
        await server.ListeningAddressAsync(TimeSpan.FromSeconds(60));

        var expected = Path.Combine(home, "Conveyor");
        Assert.True(File.Exists(Path.Combine(expected, "conveyor.db")), server.Output);
        Assert.Empty(Directory.GetFiles(work, "*", SearchOption.AllDirectories));
        Assert.Contains($"data directory: {expected}", server.Output, StringComparison.Ordinal);
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

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, WorkerProcess server)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline && !server.HasExited, "the condition did not hold:\n" + server.Output);
            await Task.Delay(50);
        }
    }
}
