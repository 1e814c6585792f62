using Conveyor.Storage;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Workflows;

public sealed partial class WorkflowClientTests
{
    private static WorkflowBuilder FanOutFanIn(IJobClient client, int parts)
    {
        var workflow = new WorkflowBuilder("fan-out").Add("split", client.CreateJob(new EchoJob("split")));
        var names = Enumerable.Range(1, parts).Select(i => $"part-{i}").ToList();
        foreach (var name in names)
        {
            workflow.Add(name, client.CreateJob(new EchoJob(name)), after: ["split"]);
        }

        return workflow.Add("aggregate", client.CreateJob(new EchoJob("aggregate")), after: names);
    }

    [Fact]
    public async Task StartWorkflow_FanOutFanIn_StepsRunInDependencyOrder_AndTheWorkflowReadsBack()
    {
        var (client, workflows, store) = CreateSut();

        var started = await workflows.StartWorkflowAsync(FanOutFanIn(client, 3), Ct);

        Assert.True(started.Created);
        var info = await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct);
        Assert.Equal(("fan-out", BatchState.Running, 5), (info!.Name, info.State, info.Batch.Total));
        Assert.Equal(["split", "part-1", "part-2", "part-3", "aggregate"], info.Steps.Select(static s => s.Name));
        Assert.Equal(["part-1", "part-2", "part-3"], info.Steps[^1].After);
        Assert.Equal([JobState.Pending, JobState.Waiting, JobState.Waiting, JobState.Waiting, JobState.Waiting], info.Steps.Select(static s => s.State));
        Assert.Equal(started.StepJobIds["aggregate"], info.Steps[^1].JobId);

        var split = await LeaseOneAsync(store);
        Assert.Equal(started.StepJobIds["split"], split.Id);
        await AckAsync(store, split, AckOutcome.Succeeded);
        for (var i = 0; i < 3; i++)
        {
            var part = await LeaseOneAsync(store);
            Assert.StartsWith("part-", (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct))!.Steps.Single(s => s.JobId == part.Id).Name, StringComparison.Ordinal);
            await AckAsync(store, part, AckOutcome.Succeeded, result: [(byte)('0' + i)]);
        }

        Assert.Equal(started.StepJobIds["aggregate"], (await LeaseOneAsync(store)).Id);
    }

    [Fact]
    public async Task JobsAddedToARunningWorkflow_AreListedBesideItsSteps_AndItsStateWaitsForThem()
    {
        var (client, workflows, store) = CreateSut();
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder().Add("a", client.CreateJob(new EchoJob("a"))), Ct);
        var addedJob = client.CreateJob(new EchoJob("found later"));

        await workflows.AddToBatchAsync(started.WorkflowId, [addedJob], Ct);

        var info = (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct))!;
        Assert.Equal(2, info.Batch.Total);
        Assert.Equal(["a"], info.Steps.Select(static s => s.Name));
        var added = Assert.Single(info.AddedJobs);
        Assert.Equal((addedJob.Id, JobState.Pending), (added.Id, added.State));
        await AckAsync(store, await LeaseOneAsync(store), AckOutcome.Succeeded);
        Assert.Equal(BatchState.Running, (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct))!.State);
        await AckAsync(store, await LeaseOneAsync(store), AckOutcome.Succeeded);
        Assert.Equal(BatchState.Succeeded, (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct))!.State);
    }

    [Fact]
    public async Task StartWorkflow_AStepFails_ItsDependantsFollowTheirConditions_AndTheWorkflowCompletes()
    {
        var (client, workflows, store) = CreateSut();
        var workflow = new WorkflowBuilder()
            .Add("a", client.CreateJob(new EchoJob("a")))
            .Add("b", client.CreateJob(new EchoJob("b")), after: ["a"], condition: ContinuationCondition.SucceededElseFail)
            .Add("c", client.CreateJob(new EchoJob("c")), after: ["b"])
            .Add("cleanup", client.CreateJob(new EchoJob("cleanup")), after: ["c"], condition: ContinuationCondition.Finished);
        var started = await workflows.StartWorkflowAsync(workflow, Ct);

        await AckAsync(store, await LeaseOneAsync(store), AckOutcome.Failed);

        var info = (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct))!;
        Assert.Equal([JobState.Failed, JobState.Failed, JobState.Cancelled, JobState.Pending], info.Steps.Select(static s => s.State));
        await AckAsync(store, await LeaseOneAsync(store), AckOutcome.Succeeded);
        info = (await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct))!;
        Assert.Equal((BatchState.Completed, 1, 2, 1), (info.State, info.Batch.Succeeded, info.Batch.Failed, info.Batch.Cancelled));
    }

    public static TheoryData<string, Func<IJobClient, WorkflowBuilder>, string> RefusedWorkflows => new()
    {
        { "empty", _ => new WorkflowBuilder(), "at least one step" },
        { "duplicate", c => new WorkflowBuilder().Add("a", c.CreateJob(new EchoJob("1"))).Add("a", c.CreateJob(new EchoJob("2"))), "'a' is added twice" },
        { "unknown", c => new WorkflowBuilder().Add("a", c.CreateJob(new EchoJob("1")), after: ["b"]), "runs after 'b', which is not a step" },
        { "self", c => new WorkflowBuilder().Add("a", c.CreateJob(new EchoJob("1")), after: ["a"]), "cycle: a → a" },
        {
            "cycle", c => new WorkflowBuilder()
                .Add("start", c.CreateJob(new EchoJob("0")))
                .Add("a", c.CreateJob(new EchoJob("1")), after: ["start", "c"])
                .Add("b", c.CreateJob(new EchoJob("2")), after: ["a"])
                .Add("c", c.CreateJob(new EchoJob("3")), after: ["b"]),
            "cycle: "
        },
        { "bad name", c => new WorkflowBuilder().Add("a b", c.CreateJob(new EchoJob("1"))), "'a b' is not a step name" },
        { "twice in after", c => new WorkflowBuilder().Add("a", c.CreateJob(new EchoJob("1"))).Add("b", c.CreateJob(new EchoJob("2")), after: ["a", "a"]), "names 'a' twice" },
        {
            "tenants", c => new WorkflowBuilder()
                .Add("a", c.CreateJob(new EchoJob("1")))
                .Add("b", c.CreateJob(new EchoJob("2"), new JobOptions { Tenant = "globex" })),
            "one tenant"
        },
        { "bad id", c => new WorkflowBuilder { WorkflowId = "wf-1" }.Add("a", c.CreateJob(new EchoJob("1"))), "not a workflow id" },
        { "steps", c => Dense(c, steps: 1001, window: 1), "1001 steps is too many: a workflow has at most 1000." },
        { "dependencies", c => Dense(c, steps: 1000, window: 100), "The steps up to 's150' wait for 10050 jobs in total: a workflow has at most 10000 dependencies" },
    };

    /// <summary>Steps each after the <paramref name="window"/> before it (100 is the most one step may name).</summary>
    private static WorkflowBuilder Dense(IJobClient client, int steps, int window)
    {
        var workflow = new WorkflowBuilder();
        for (var i = 0; i < steps; i++)
        {
            workflow.Add($"s{i}", client.CreateJob(new EchoJob(i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                after: [.. Enumerable.Range(Math.Max(0, i - window), Math.Min(i, window)).Select(j => $"s{j}")]);
        }

        return workflow;
    }

    [Fact]
    public async Task StartWorkflow_AtTheDependencyCap_IsStored()
    {
        var (client, workflows, store) = CreateSut();

        // 1,000 steps each after the ten before it: 9,945 dependencies.
        await workflows.StartWorkflowAsync(Dense(client, steps: 1000, window: 10), Ct);

        Assert.Equal(1000, (await store.ListAsync(new JobQuery { Tenant = null, Limit = 1000 }, Ct)).Jobs.Count);
    }

    [Theory]
    [MemberData(nameof(RefusedWorkflows))]
    public async Task StartWorkflow_InvalidGraph_IsRefusedBeforeAnythingIsStored(string _, Func<IJobClient, WorkflowBuilder> build, string expected)
    {
        var (client, workflows, store) = CreateSut();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => workflows.StartWorkflowAsync(build(client), Ct));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty((await store.ListAsync(new JobQuery { Tenant = null }, Ct)).Jobs);
    }

    [Fact]
    public async Task StartWorkflow_CycleMessage_NamesTheStepsOfTheCycleOnly()
    {
        var (client, workflows, _) = CreateSut();
        var workflow = new WorkflowBuilder()
            .Add("start", client.CreateJob(new EchoJob("0")))
            .Add("a", client.CreateJob(new EchoJob("1")), after: ["start", "c"])
            .Add("b", client.CreateJob(new EchoJob("2")), after: ["a"])
            .Add("c", client.CreateJob(new EchoJob("3")), after: ["b"])
            .Add("after-cycle", client.CreateJob(new EchoJob("4")), after: ["c"]);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => workflows.StartWorkflowAsync(workflow, Ct));

        Assert.Contains("a → b → c → a", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("start", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartWorkflow_StepsAddedOutOfOrder_AreStoredDependenciesFirst()
    {
        var (client, workflows, store) = CreateSut();
        var workflow = new WorkflowBuilder()
            .Add("last", client.CreateJob(new EchoJob("last")), after: ["first"])
            .Add("first", client.CreateJob(new EchoJob("first")));

        var started = await workflows.StartWorkflowAsync(workflow, Ct);

        Assert.True(started.Created);
        Assert.Equal([JobState.Pending, JobState.Waiting], started.Jobs.Results.Select(static r => r.State));
        Assert.Equal(started.StepJobIds["first"], (await LeaseOneAsync(store)).Id);
    }

    [Fact]
    public async Task GetWorkflow_APlainBatchOrAnotherTenantsWorkflowOrAMalformedId_IsNull()
    {
        var (client, workflows, _) = CreateSut();
        var batch = await workflows.StartBatchAsync([client.CreateJob(new EchoJob("x"))], cancellationToken: Ct);
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder().Add("a", client.CreateJob(new EchoJob("a"))), Ct);

        Assert.Null(await workflows.GetWorkflowAsync(batch.BatchId, TenantId.Default, Ct));
        Assert.Null(await workflows.GetWorkflowAsync(started.WorkflowId, "globex", Ct));
        Assert.Null(await workflows.GetWorkflowAsync("not-an-id", TenantId.Default, Ct));
        Assert.NotNull(await workflows.GetWorkflowAsync(started.WorkflowId, TenantId.Default, Ct));
    }

    [Fact]
    public async Task ListBatchesAsync_TheTenantsBatchesNewestFirst_WorkflowsOnlyOnRequest()
    {
        var (client, workflows, _) = CreateSut();
        var batch = await workflows.StartBatchAsync([client.CreateJob(new EchoJob("a"))], cancellationToken: Ct);
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder("nightly").Add("a", client.CreateJob(new EchoJob("b"))), Ct);

        var all = await workflows.ListBatchesAsync(new BatchQuery { Tenant = TenantId.Default }, Ct);
        var onlyWorkflows = await workflows.ListBatchesAsync(new BatchQuery { Tenant = TenantId.Default, WorkflowsOnly = true }, Ct);
        var otherTenant = await workflows.ListBatchesAsync(new BatchQuery { Tenant = "other" }, Ct);

        Assert.Equal(new[] { started.WorkflowId, batch.BatchId }.Order(), all.Batches.Select(static b => b.Id).Order());
        Assert.Equal([started.WorkflowId], onlyWorkflows.Batches.Select(static b => b.Id));
        Assert.Empty(otherTenant.Batches);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => workflows.ListBatchesAsync(new BatchQuery { Tenant = TenantId.Default, Limit = 0 }, Ct));
    }
}
