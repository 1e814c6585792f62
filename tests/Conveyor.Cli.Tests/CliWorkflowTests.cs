using System.Text.Json;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Cli.Tests;

/// <summary><c>conveyor batches show|ls</c> and <c>conveyor workflows show|ls</c>: the API's answers, as fields and tables.</summary>
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
    public async Task StatsQueuesAndDash_CountTheStepsWaitingForOthers()
    {
        var workflows = _server.Services.GetRequiredService<IWorkflowClient>();
        await workflows.StartWorkflowAsync(new WorkflowBuilder("nightly")
            .Add("extract", Job())
            .Add("sales", Job(), after: ["extract"])
            .Add("costs", Job(), after: ["extract"]));

        var stats = await _server.RunAsync("stats");
        var queues = await _server.RunAsync("queues", "ls");
        var dash = await _server.RunAsync("dash", "--once");

        Assert.True((stats.ExitCode, queues.ExitCode, dash.ExitCode) == (0, 0, 0), stats.Error + queues.Error + dash.Error);
        Assert.Matches(@"waiting\s+2", stats.Output);
        Assert.Matches(@"WAITING", queues.Output);
        Assert.Matches(@"nobody\s+(\S+\s+){3}2\s", queues.Output);
        Assert.Matches(@"nobody\s*│\s*1\s*│\s*2\s*│", dash.Output);
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

    [Fact]
    public async Task WorkflowsShow_HeaderIsOneAlignedGrid_WithTenantAndCreatedTime_AsBatchesShowHas()
    {
        var workflows = _server.Services.GetRequiredService<IWorkflowClient>();
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder("nightly").Add("extract", Job()));

        var shown = await _server.RunAsync("workflows", "show", started.WorkflowId);

        Assert.True(shown.ExitCode == 0, shown.Error);
        var header = shown.Output.Split('\n').TakeWhile(line => line.Trim().Length > 0 && !line.Contains("STEP", StringComparison.Ordinal)).ToList();
        Assert.Contains(header, line => line.StartsWith("tenant ", StringComparison.Ordinal) && line.Contains("tenant-a", StringComparison.Ordinal));
        Assert.Contains(header, line => line.StartsWith("created ", StringComparison.Ordinal));
        Assert.Contains(header, line => line.StartsWith("unfinished ", StringComparison.Ordinal));
        // Every value starts in the same column.
        string[] labels = ["workflow", "name", "tenant", "status", "progress %", "steps", "succeeded", "failed", "cancelled", "unfinished", "created", "updated", "finished"];
        var valueColumns = header.Select(line =>
        {
            var label = labels.Where(l => line.StartsWith(l + " ", StringComparison.Ordinal)).MaxBy(l => l.Length)!;
            return label.Length + line[label.Length..].TakeWhile(c => c == ' ').Count();
        });
        Assert.Single(valueColumns.Distinct());
    }

    [Fact]
    public async Task BatchesAndWorkflowsLs_ListTheTenants_ByStatus_APageAtATime()
    {
        var workflows = _server.Services.GetRequiredService<IWorkflowClient>();
        var batch = await workflows.StartBatchAsync([Job(), Job()]);
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder("nightly").Add("extract", Job()));

        var batches = await _server.RunAsync("batches", "ls");
        var firstPage = await _server.RunAsync("batches", "ls", "--limit", "1", "--json");
        var running = await _server.RunAsync("workflows", "ls", "--status", "running");
        var cancelled = await _server.RunAsync("batches", "ls", "--status", "cancelled", "--json");
        var unknownStatus = await _server.RunAsync("batches", "ls", "--status", "done");

        Assert.Equal(0, batches.ExitCode);
        Assert.Matches(batch.BatchId + @"\s+tenant-a\s+RUNNING\s+0\s+2\s", batches.Output);
        Assert.Contains(started.WorkflowId, batches.Output, StringComparison.Ordinal);
        var page = JsonDocument.Parse(firstPage.Output).RootElement;
        Assert.Single(page.GetProperty("batches").EnumerateArray());
        Assert.Equal(JsonValueKind.String, page.GetProperty("next_cursor").ValueKind);
        Assert.Matches(started.WorkflowId + @"\s+tenant-a\s+nightly\s+RUNNING\s+0\s+1\s", running.Output);
        Assert.DoesNotContain(batch.BatchId, running.Output, StringComparison.Ordinal);
        Assert.Empty(JsonDocument.Parse(cancelled.Output).RootElement.GetProperty("batches").EnumerateArray());
        Assert.Equal(ExitCodes.Refused, unknownStatus.ExitCode);
        Assert.Contains("status", unknownStatus.Error, StringComparison.Ordinal);
    }
}
