using Conveyor.Storage;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Workflows;

public sealed partial class WorkflowClientTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => CancellationToken.None;

    private static (IJobClient Client, IWorkflowClient Workflows, IJobStore Store) CreateSut()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        services.AddConveyor().UseInMemoryStore();
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IJobClient>(), provider.GetRequiredService<IWorkflowClient>(), provider.GetRequiredService<IJobStore>());
    }

    private static async Task<LeasedJob> LeaseOneAsync(IJobStore store, string queue = QueueName.Default)
    {
        var leased = await store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(queue, 10)],
            Limit = 1,
            ServerId = "s",
            LeaseDuration = TimeSpan.FromMinutes(1),
        }, Ct);
        return Assert.Single(leased);
    }

    private static Task<int> AckAsync(IJobStore store, LeasedJob job, AckOutcome outcome, byte[]? result = null) =>
        store.AcknowledgeManyAsync([new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = outcome, Result = result }], Ct).AsTask();

    [Theory]
    [InlineData(ContinuationCondition.Succeeded, JobState.Cancelled)]
    [InlineData(ContinuationCondition.SucceededElseFail, JobState.Failed)]
    [InlineData(ContinuationCondition.Finished, JobState.Pending)]
    public async Task After_ParentFails_TheConditionDecidesTheContinuationsFate(ContinuationCondition condition, JobState expected)
    {
        var (client, _, store) = CreateSut();
        var parent = await client.EnqueueAsync(new EchoJob("parent"), cancellationToken: Ct);
        var child = await client.EnqueueAsync(new EchoJob("child"), new JobOptions { After = [parent.JobId], AfterCondition = condition }, Ct);

        await AckAsync(store, await LeaseOneAsync(store), AckOutcome.Failed);

        var info = await client.GetJobAsync(child.JobId, Ct);
        Assert.Equal(expected, info!.State);
        Assert.Equal(condition == ContinuationCondition.SucceededElseFail, Assert.Single(info.DependsOn).FailIfUnmet);
    }

    [Fact]
    public async Task EnqueueAll_AJobBeforeTheJobItWaitsFor_IsRefusedAndNothingIsStored()
    {
        // docs/async-jobs.md ("When to use which"): unlike StartWorkflowAsync, EnqueueAllAsync does not reorder the list.
        var (client, workflows, store) = CreateSut();
        var first = client.CreateJob(new EchoJob("a"));
        var then = client.CreateJob(new EchoJob("b"), new JobOptions { After = [first.Id] });

        var refused = await workflows.EnqueueAllAsync([then, first], Ct);
        var stored = await workflows.EnqueueAllAsync([first, then], Ct);

        Assert.Equal((false, 0, EnqueueOutcome.DependencyNotFound), (refused.AllStored, refused.RefusedIndex, refused.Refusal!.Outcome));
        Assert.True(stored.AllStored);
        Assert.Equal(JobState.Waiting, (await client.GetJobAsync(then.Id, Ct))!.State);
    }

    [Fact]
    public async Task ABatchCallback_ReadsEveryMembersResult_TheOnesAddedLaterIncluded()
    {
        // docs/async-jobs.md ("Reading the parent's result"): the callback's DependsOn holds the batch, not its members.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(
            configureConveyor: c => c
                .AddHandler("test:member", (context, _) =>
                {
                    context.SetJsonResult(System.Text.Encoding.UTF8.GetString(context.Payload.Span));
                    return Task.CompletedTask;
                })
                .AddHandler("test:publish", async (context, cancellationToken) =>
                {
                    foreach (var result in await context.GetDependencyResultsAsync<string>(cancellationToken))
                    {
                        seen.Enqueue($"{result.Value} {result.State}");
                    }
                }),
            start: false);
        await harness.Store.InitializeAsync(Ct);
        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();
        var batch = await workflows.StartBatchAsync(
            [harness.Client.CreateJob("test:member", "1"u8.ToArray()), harness.Client.CreateJob("test:member", "2"u8.ToArray())],
            new BatchOptions { OnSuccess = harness.Client.CreateJob("test:publish", "{}"u8.ToArray()) },
            Ct);
        await workflows.AddToBatchAsync(batch.BatchId, [harness.Client.CreateJob("test:member", "3"u8.ToArray())], Ct);

        await harness.StartHostAsync();

        await Eventually.HoldsAsync(() => Task.FromResult(seen.Count == 3));
        Assert.Equal(["1 Succeeded", "2 Succeeded", "3 Succeeded"], seen.Order());
    }

    [Fact]
    public async Task After_UndefinedCondition_IsRefusedNamingTheChoices()
    {
        var (client, _, _) = CreateSut();
        var parent = await client.EnqueueAsync(new EchoJob("parent"), cancellationToken: Ct);

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            client.EnqueueAsync(new EchoJob("child"), new JobOptions { After = [parent.JobId], AfterCondition = (ContinuationCondition)7 }, Ct));

        Assert.Contains("SucceededElseFail", error.Message, StringComparison.Ordinal);
    }
}
