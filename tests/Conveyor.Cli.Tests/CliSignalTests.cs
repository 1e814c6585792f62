using System.Text;

namespace Conveyor.Cli.Tests;

/// <summary><c>conveyor jobs signal</c> and <c>steps</c>: deliver the payload, list it back; refusals come back as the API's problems.</summary>
public sealed class CliSignalTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task JobsSignal_DeliversThePayload_AndASecondOneIsAConflict()
    {
        var job = await _server.Jobs.EnqueueAsync("note:archive", """{"note_id":1}"""u8.ToArray(), new JobOptions { Tenant = "tenant-a" });

        var delivered = await _server.RunAsync("jobs", "signal", job.JobId, "approved", "--payload", """{"by": "ada"}""");
        var again = await _server.RunAsync("jobs", "signal", job.JobId, "approved", "--payload", "true");
        var notJson = await _server.RunAsync("jobs", "signal", job.JobId, "other", "--payload", "{nope");

        Assert.Equal(0, delivered.ExitCode);
        Assert.Contains(job.JobId, delivered.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("409", again.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, notJson.ExitCode);
        var steps = await _server.Store.GetStepsAsync("tenant-a", job.JobId, CancellationToken.None);
        Assert.Equal("""{"by": "ada"}""", Encoding.UTF8.GetString(Assert.Single(steps!).Result.Span));
    }

    [Fact]
    public async Task JobsSignal_ReadsThePayloadFromStandardInput()
    {
        var job = await _server.Jobs.EnqueueAsync("note:archive", """{"note_id":1}"""u8.ToArray(), new JobOptions { Tenant = "tenant-a" });

        var delivered = await _server.RunWithInputAsync("\"ada\"", "jobs", "signal", job.JobId, "approved", "--payload", "@-");

        Assert.True(delivered.ExitCode == 0, delivered.Error);
        var steps = await _server.Store.GetStepsAsync("tenant-a", job.JobId, CancellationToken.None);
        Assert.Equal("\"ada\"", Encoding.UTF8.GetString(Assert.Single(steps!).Result.Span));
    }

    [Fact]
    public async Task JobsSteps_ListsTheDeliveredSignal_AsATableAndAsJson()
    {
        var job = await _server.Jobs.EnqueueAsync("note:archive", """{"note_id":1}"""u8.ToArray(), new JobOptions { Tenant = "tenant-a" });
        await _server.RunAsync("jobs", "signal", job.JobId, "approved", "--payload", """{"by": "ada"}""");

        var table = await _server.RunAsync("jobs", "steps", job.JobId);
        var json = await _server.RunAsync("jobs", "steps", job.JobId, "--json");
        var unknown = await _server.RunAsync("jobs", "steps", "job_00000000000000000000000000000000");

        Assert.Equal(0, table.ExitCode);
        Assert.Contains("signal", table.Output, StringComparison.Ordinal);
        Assert.Contains("approved", table.Output, StringComparison.Ordinal);
        Assert.Contains("ada", table.Output, StringComparison.Ordinal);
        using (var document = System.Text.Json.JsonDocument.Parse(json.Output))
        {
            Assert.Equal(job.JobId, document.RootElement.GetProperty("job_id").GetString());
            Assert.Equal("signal", document.RootElement.GetProperty("steps")[0].GetProperty("kind").GetString());
        }

        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("404", unknown.Error, StringComparison.Ordinal);
    }
}
