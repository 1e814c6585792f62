namespace Conveyor.Storage.Conformance;

/// <summary>What DAG workflows need of a store: a batch keeps its workflow definition, and a listing reads a batch's members.</summary>
public abstract partial class WorkflowTests
{
    [Fact]
    public async Task Batch_WithAWorkflowDefinition_ReadsItBack_APlainBatchHasNone()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var (batch, members, _, _) = NewBatchOf(2);
        var workflow = new WorkflowDefinition("nightly report", [
            new WorkflowStepDefinition("extract", members[0].Id, []),
            new WorkflowStepDefinition("publish", members[1].Id, ["extract"]),
        ]);
        var second = After(members[1], members[0].Id);
        Assert.True((await Store.CreateBatchAsync(batch with { Workflow = workflow }, [members[0], second], Ct)).AllStored);
        var (plain, plainMembers, _, _) = NewBatchOf(1);
        Assert.True((await Store.CreateBatchAsync(plain, plainMembers, Ct)).AllStored);

        var read = (await Store.GetBatchAsync(batch.Id, DefaultTenant, Ct))!.Workflow!;

        Assert.Equal("nightly report", read.Name);
        Assert.Equal(
            [("extract", members[0].Id, ""), ("publish", members[1].Id, "extract")],
            read.Steps.Select(static s => (s.Name, s.JobId, string.Join(",", s.After))));
        Assert.Null((await Store.GetBatchAsync(plain.Id, DefaultTenant, Ct))!.Workflow);
    }

    [Fact]
    public async Task List_ByBatchId_ReturnsTheBatchsMembersOnly_PageByPage_WithinTheTenant()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var created = NewBatchOf(5);
        Assert.True((await Store.CreateBatchAsync(created.Batch, [.. created.Members, created.OnSuccess], Ct)).AllStored);
        Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await Store.AddToBatchAsync(created.Batch.Id, DefaultTenant, [NewJob(queue: "batch") with { BatchId = created.Batch.Id }], Ct))!.AllStored);
        var other = NewBatchOf(1);
        Assert.True((await Store.CreateBatchAsync(other.Batch, other.Members, Ct)).AllStored);
        await EnqueueAsync(NewJob(queue: "batch"));

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Store.ListAsync(new JobQuery { Tenant = DefaultTenant, BatchId = created.Batch.Id, Limit = 4, Cursor = cursor }, Ct);
            Assert.All(page.Jobs, j => Assert.Equal(created.Batch.Id, j.BatchId));
            seen.AddRange(page.Jobs.Select(static j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(6, seen.Count);
        Assert.Equal(6, seen.Distinct().Count());
        Assert.DoesNotContain(created.OnSuccess.Id, seen);
        Assert.Empty((await Store.ListAsync(new JobQuery { Tenant = "globex", BatchId = created.Batch.Id }, Ct)).Jobs);
        Assert.Single((await Store.ListAsync(new JobQuery { Tenant = DefaultTenant, BatchId = created.Batch.Id, State = JobState.Pending, Limit = 1 }, Ct)).Jobs);
    }

    [Fact]
    public async Task Joins_TwoReleasedTogetherByTwoConcurrentAcknowledgements_EachReleasedOnce()
    {
        // Each acknowledgement finishes one dependency of each join; by id order, the first reaches the joins as
        // (first, second) and the other as (second, first). Both must go through and each join be released once.
        if (!SupportsWorkflows)
        {
            return;
        }

        for (var round = 0; round < 20; round++)
        {
            var suffix = Guid.NewGuid().ToString("N");
            var (a, b, c, d) = ($"a-{suffix}", $"b-{suffix}", $"c-{suffix}", $"d-{suffix}");
            foreach (var id in new[] { a, b, c, d })
            {
                await EnqueueAsync(NewJob(queue: "join-parents") with { Id = id });
            }

            var first = await EnqueueAsync(After(NewJob(queue: "joins"), a, d));
            var second = await EnqueueAsync(After(NewJob(queue: "joins"), b, c));
            var leased = (await Store.DequeueAsync(Request(4, queues: "join-parents"), Ct)).ToDictionary(static j => j.Id);
            Assert.Equal(4, leased.Count);

            var applied = await Task.WhenAll(
                Task.Run(async () => await Store.AcknowledgeManyAsync([Ack(leased[a], AckOutcome.Succeeded), Ack(leased[b], AckOutcome.Succeeded)], Ct)),
                Task.Run(async () => await Store.AcknowledgeManyAsync([Ack(leased[c], AckOutcome.Succeeded), Ack(leased[d], AckOutcome.Succeeded)], Ct)));

            Assert.Equal([2, 2], applied);
            var released = await Store.DequeueAsync(Request(10, queues: "joins"), Ct);
            Assert.Equal(new[] { first, second }.Order(), released.Select(static j => j.Id).Order());
            Assert.Equal(2, await Store.AcknowledgeManyAsync([.. released.Select(static j => Ack(j, AckOutcome.Succeeded))], Ct));
        }
    }

    [Fact]
    public async Task Joins_OnTheSameParentsInOppositeOrders_EnqueuedConcurrently_AreBothStored()
    {
        // Linking locks what a job waits for: two enqueues naming the same parents in opposite orders must still both
        // go through, and each join be released once when the parents succeed.
        if (!SupportsWorkflows)
        {
            return;
        }

        for (var round = 0; round < 20; round++)
        {
            var a = await EnqueueAsync(NewJob(queue: "join-parents"));
            var b = await EnqueueAsync(NewJob(queue: "join-parents"));
            var first = After(NewJob(queue: "joins"), a, b);
            var second = After(NewJob(queue: "joins"), b, a);

            var stored = await Task.WhenAll(
                Task.Run(async () => await Store.EnqueueAsync(first, Ct)),
                Task.Run(async () => await Store.EnqueueAsync(second, Ct)));

            Assert.All(stored, static s => Assert.Equal((EnqueueOutcome.Enqueued, JobState.Waiting), (s.Outcome, s.State)));
            await RunOneAsync("join-parents", AckOutcome.Succeeded);
            await RunOneAsync("join-parents", AckOutcome.Succeeded);
            var released = await Store.DequeueAsync(Request(10, queues: "joins"), Ct);
            Assert.Equal(new[] { first.Id, second.Id }.Order(), released.Select(static j => j.Id).Order());
            Assert.Equal(2, await Store.AcknowledgeManyAsync([.. released.Select(static j => Ack(j, AckOutcome.Succeeded))], Ct));
        }
    }
}
