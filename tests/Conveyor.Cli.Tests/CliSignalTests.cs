using System.Text;

namespace Conveyor.Cli.Tests;

/// <summary><c>conveyor jobs signal</c>: delivers the payload; refusals come back as the API's problems.</summary>
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
}
