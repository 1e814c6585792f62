using System.Text.Json;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Cli.Tests;

/// <summary><c>conveyor batches show</c> and <c>conveyor workflows show</c>: the API's answers, as fields and a table of steps.</summary>
public sealed class CliWorkflowTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private NewJob Job() => _server.Jobs.CreateJob("note:archive", """{"note_id":1}"""u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "nobody" });

    [Fact]
    public async Task BatchesShow_PrintsCountsAndProgress_AndAnUnknownIdIsNotFound()
    {
        var workflows = _server.Services.GetRequiredService<IWorkflowClient>();
        var batch = await workflows.StartBatchAsync([Job(), Job()]);

        var shown = await _server.RunAsync("batches", "show", batch.BatchId);
        var json = await _server.RunAsync("batches", "show", batch.BatchId, "--json");
        var missing = await _server.RunAsync("batches", "show", "batch_00000000000000000000000000000000");

        Assert.Equal(0, shown.ExitCode);
        Assert.Contains(batch.BatchId, shown.Output, StringComparison.Ordinal);
        Assert.Matches(@"unfinished\s+2", shown.Output);
        Assert.Equal(2, JsonDocument.Parse(json.Output).RootElement.GetProperty("total").GetInt32());
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
    }

    [Fact]
    public async Task WorkflowsShow_PrintsEachStepWithItsStatusAndDependencies()
    {
        var workflows = _server.Services.GetRequiredService<IWorkflowClient>();
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder("nightly")
            .Add("extract", Job())
            .Add("sales", Job(), after: ["extract"])
            .Add("costs", Job(), after: ["extract"])
            .Add("publish", Job(), after: ["sales", "costs"]));

        var shown = await _server.RunAsync("workflows", "show", started.WorkflowId);

        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("nightly", shown.Output, StringComparison.Ordinal);
        Assert.Matches(@"publish\s+WAITING\s+sales, costs\s+" + started.StepJobIds["publish"], shown.Output);
        Assert.Matches(@"extract\s+QUEUED\s+", shown.Output);
    }
}
