using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Testing.Tests;

/// <summary>The guide's fan-out/fan-in workflow, run through the real pipeline: the aggregate reads every part's result.</summary>
public sealed class WorkflowFanInTests
{
    [Fact]
    public async Task FanOutFanIn_TheAggregateReadsEveryPartsResult_AndTheWorkflowSucceeds()
    {
        await using var host = ConveyorTestHost.Create(conveyor => conveyor
            .AddHandler<SplitHandler>()
            .AddHandler<PartHandler>()
            .AddHandler<SumHandler>());
        var workflows = host.Services.GetRequiredService<IWorkflowClient>();
        string[] parts = ["p1", "p2", "p3", "p4"];
        var workflow = new WorkflowBuilder("sum").Add("split", host.Client.CreateJob(new Split()));
        for (var i = 0; i < parts.Length; i++)
        {
            workflow.Add(parts[i], host.Client.CreateJob(new Part(i + 1)), after: ["split"]);
        }

        workflow.Add("sum", host.Client.CreateJob(new Sum()), after: parts);
        var started = await workflows.StartWorkflowAsync(workflow);

        var ran = await host.DrainAsync();

        Assert.Equal(6, ran.Succeeded);
        var info = (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default))!;
        Assert.Equal(BatchState.Succeeded, info.State);
        Assert.All(info.Steps, s => Assert.Equal(JobState.Succeeded, s.State));
        var sum = info.Steps.Single(s => s.Name == "sum").Job!;
        Assert.Equal("100", System.Text.Encoding.UTF8.GetString(sum.Result!.Value.Span));
    }

    public sealed record Split : IJobPayload
    {
        public static string JobType => "sum:split";
    }

    public sealed record Part(int Number) : IJobPayload
    {
        public static string JobType => "sum:part";
    }

    public sealed record Sum : IJobPayload
    {
        public static string JobType => "sum:total";
    }

    public sealed class SplitHandler : IJobHandler<Split>
    {
        public Task HandleAsync(Split payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class PartHandler : IJobHandler<Part>
    {
        public Task HandleAsync(Part payload, JobContext context, CancellationToken cancellationToken)
        {
            context.SetJsonResult(payload.Number * 10);
            return Task.CompletedTask;
        }
    }

    public sealed class SumHandler : IJobHandler<Sum>
    {
        public async Task HandleAsync(Sum payload, JobContext context, CancellationToken cancellationToken)
        {
            var parts = await context.GetDependencyResultsAsync<int>(cancellationToken);
            Assert.Equal(4, parts.Count);
            Assert.All(parts, p => Assert.True(p.Succeeded));
            context.SetJsonResult(parts.Sum(p => p.Value));
        }
    }
}
