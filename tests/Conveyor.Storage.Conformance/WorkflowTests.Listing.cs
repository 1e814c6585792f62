namespace Conveyor.Storage.Conformance;

/// <summary>
/// The listing of a tenant's batches and workflows, or every tenant's: newest first (created-at, then id), keyset pages
/// that neither skip nor repeat, a state filter, and nothing of another tenant's (for one tenant) or of a purged batch.
/// </summary>
public abstract partial class WorkflowTests
{
    /// <summary>Creates a batch of one member on <paramref name="queue"/>, a workflow of that one step when <paramref name="workflow"/> is set.</summary>
    private async Task<string> CreateListedBatchAsync(string queue = "batch", string tenant = DefaultTenant, string? workflow = null, TimeSpan? retention = null)
    {
        var (batch, members, _, _) = NewBatchOf(1, queue, tenant);
        batch = batch with
        {
            Retention = retention ?? batch.Retention,
            Workflow = workflow is null ? null : new WorkflowDefinition(workflow, [new WorkflowStepDefinition("only", members[0].Id, [])]),
        };
        Assert.True((await Store.CreateBatchAsync(batch, members, Ct)).AllStored);
        return batch.Id;
    }

    private async Task<List<string>> ListAllAsync(BatchQuery query)
    {
        var ids = new List<string>();
        var cursor = query.Cursor;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await Store.ListBatchesAsync(query with { Cursor = cursor }, Ct);
            Assert.True(page.Batches.Count <= query.Limit);
            ids.AddRange(page.Batches.Select(static b => b.Id));
            if (page.NextCursor is null)
            {
                return ids;
            }

            cursor = page.NextCursor;
        }

        throw new InvalidOperationException("The listing did not end within 100 pages.");
    }

    [Fact]
    public async Task ListBatches_NewestFirst_OnlyTheTenants_WithTheirCounts()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var oldest = await CreateListedBatchAsync();
        Time.Advance(TimeSpan.FromSeconds(1));
        var other = await CreateListedBatchAsync(tenant: "tenant-b");
        Time.Advance(TimeSpan.FromSeconds(1));
        var newest = await CreateListedBatchAsync(workflow: "nightly");

        var page = await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant }, Ct);

        Assert.Equal([newest, oldest], page.Batches.Select(static b => b.Id));
        Assert.Null(page.NextCursor);
        var listed = page.Batches[0];
        Assert.Equal((DefaultTenant, BatchState.Running, 1, "nightly", Now), (listed.Tenant, listed.State, listed.Total, listed.Workflow?.Name, listed.CreatedAt));
        Assert.Equal([other], (await Store.ListBatchesAsync(new BatchQuery { Tenant = "tenant-b" }, Ct)).Batches.Select(static b => b.Id));
        Assert.Empty((await Store.ListBatchesAsync(new BatchQuery { Tenant = "tenant-c" }, Ct)).Batches);
    }

    [Fact]
    public async Task ListBatches_InPages_NeitherSkipsNorRepeats_BatchesOfTheSameMicrosecondIncluded_NorShiftsForNewOnes()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var created = new List<(DateTimeOffset At, string Id)>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((Now, await CreateListedBatchAsync()));
            if (i % 3 == 2)
            {
                Time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var expected = created.OrderByDescending(static c => c.At).ThenByDescending(static c => c.Id, StringComparer.Ordinal).Select(static c => c.Id).ToList();
        var first = await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant, Limit = 3 }, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        var later = await CreateListedBatchAsync();

        var rest = await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, Limit = 3, Cursor = first.NextCursor });

        Assert.Equal(expected, [.. first.Batches.Select(static b => b.Id), .. rest]);
        Assert.Equal([later, .. expected], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, Limit = 2 }));
        Assert.Equal([later, .. expected], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, Limit = BatchQuery.MaxLimit }));
    }

    [Fact]
    public async Task ListBatches_ByState_OnlyThatState()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var running = await CreateListedBatchAsync(queue: "running");
        var succeeded = await CreateListedBatchAsync(queue: "succeeded");
        await RunOneAsync("succeeded", AckOutcome.Succeeded);
        var completed = await CreateListedBatchAsync(queue: "completed");
        await RunOneAsync("completed", AckOutcome.Failed);
        var cancelled = await CreateListedBatchAsync(queue: "cancelled");
        Assert.True(await Store.CancelBatchAsync(cancelled, DefaultTenant, Ct));

        async Task<IEnumerable<string>> InState(BatchState state) =>
            (await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant, State = state }, Ct)).Batches.Select(static b => b.Id);

        Assert.Equal([running], await InState(BatchState.Running));
        Assert.Equal([succeeded], await InState(BatchState.Succeeded));
        Assert.Equal([completed], await InState(BatchState.Completed));
        Assert.Equal([cancelled], await InState(BatchState.Cancelled));
        Assert.Empty((await Store.ListBatchesAsync(new BatchQuery { Tenant = "tenant-b", State = BatchState.Running }, Ct)).Batches);
    }

    [Fact]
    public async Task ListBatches_StateFilterInPages_NeitherSkipsNorRepeats()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var running = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            var id = await CreateListedBatchAsync(queue: $"q{i}");
            if (i % 2 == 0)
            {
                running.Insert(0, id);
            }
            else
            {
                Assert.True(await Store.CancelBatchAsync(id, DefaultTenant, Ct));
            }

            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(running, await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, State = BatchState.Running, Limit = 2 }));
    }

    [Fact]
    public async Task ListBatches_WorkflowsOnly_LeavesPlainBatchesOut_AndFiltersByState()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var first = await CreateListedBatchAsync(queue: "first", workflow: "first");
        Time.Advance(TimeSpan.FromSeconds(1));
        var plain = await CreateListedBatchAsync(queue: "plain");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateListedBatchAsync(queue: "second", workflow: null);
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateListedBatchAsync(queue: "third", workflow: "third");
        await RunOneAsync("third", AckOutcome.Succeeded);
        await CreateListedBatchAsync(tenant: "tenant-b", workflow: "theirs");

        Assert.Equal([third, first], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, WorkflowsOnly = true, Limit = 1 }));
        Assert.Equal([third, second, plain, first], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant }));
        Assert.Equal([first], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, WorkflowsOnly = true, State = BatchState.Running }));
        Assert.Equal([third], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, WorkflowsOnly = true, State = BatchState.Succeeded }));
    }

    [Fact]
    public async Task ListBatches_APurgedBatch_IsNoLongerListed()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var finished = await CreateListedBatchAsync(queue: "finished", workflow: "short", retention: TimeSpan.FromHours(1));
        await RunOneAsync("finished", AckOutcome.Succeeded);
        Time.Advance(TimeSpan.FromSeconds(1));
        var running = await CreateListedBatchAsync(queue: "running", retention: TimeSpan.FromHours(1));
        Assert.Equal([running, finished], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant }));

        Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await Store.PurgeExpiredAsync(1000, Ct);

        Assert.Equal([running], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant }));
        Assert.Empty(await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, WorkflowsOnly = true }));
        Assert.Empty(await ListAllAsync(new BatchQuery { Tenant = DefaultTenant, State = BatchState.Succeeded }));
    }

    [Fact]
    public async Task ListBatches_OfEveryTenant_NewestFirstAcrossTenants_InPages_ByStateAndKind_WithoutPurgedOnes()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var expiring = await CreateListedBatchAsync(queue: "expiring", tenant: "tenant-c", retention: TimeSpan.FromMinutes(1));
        await RunOneAsync("expiring", AckOutcome.Succeeded);
        Time.Advance(TimeSpan.FromMinutes(2));
        await Store.PurgeExpiredAsync(1000, Ct);
        var first = await CreateListedBatchAsync(queue: "first");
        var second = await CreateListedBatchAsync(queue: "second", tenant: "tenant-b", workflow: "theirs");
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var third = await CreateListedBatchAsync(queue: "third", tenant: "tenant-b");
        await RunOneAsync("third", AckOutcome.Succeeded);
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var fourth = await CreateListedBatchAsync(queue: "fourth", workflow: "ours");
        // first and second share a microsecond: the id decides, as in a tenant's listing.
        var sameMicrosecond = new[] { first, second }.OrderByDescending(static id => id, StringComparer.Ordinal);

        var every = new BatchQuery { Tenant = null, Limit = 1 };
        Assert.Equal([fourth, third, .. sameMicrosecond], await ListAllAsync(every));
        Assert.Equal([fourth, third, .. sameMicrosecond], await ListAllAsync(every with { Limit = BatchQuery.MaxLimit }));
        Assert.Equal([fourth, .. sameMicrosecond], await ListAllAsync(every with { State = BatchState.Running }));
        Assert.Equal([third], await ListAllAsync(every with { State = BatchState.Succeeded }));
        Assert.Equal([fourth, second], await ListAllAsync(every with { WorkflowsOnly = true }));
        var page = await Store.ListBatchesAsync(every with { Limit = 2 }, Ct);
        Assert.Equal([(DefaultTenant, BatchState.Running), ("tenant-b", BatchState.Succeeded)], page.Batches.Select(static b => (b.Tenant, b.State)));
        Assert.Equal([fourth, first], await ListAllAsync(new BatchQuery { Tenant = DefaultTenant }));
    }

    [Fact]
    public async Task ListBatches_BadLimitOrCursor_Throws()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant, Limit = 0 }, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant, Limit = BatchQuery.MaxLimit + 1 }, Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant, Cursor = "nope" }, Ct));
        var jobCursor = new JobCursor(1, "job_0123456789abcdef0123456789abcdef").Encode();
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.ListBatchesAsync(new BatchQuery { Tenant = DefaultTenant, Cursor = jobCursor }, Ct));
    }
}
