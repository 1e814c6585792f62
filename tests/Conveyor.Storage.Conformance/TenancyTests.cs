namespace Conveyor.Storage.Conformance;

/// <summary>Tenancy: another tenant's job is treated exactly as a job that does not exist.</summary>
public abstract class TenancyTests : JobStoreTestBase
{
    private const string Owner = "acme";
    private const string Stranger = "globex";

    [Fact]
    public async Task Get_AnotherTenantsJob_ReturnsNull()
    {
        var id = await EnqueueAsync(NewJob(tenant: Owner));

        Assert.Null(await Store.GetAsync(Stranger, id, Ct));
        Assert.NotNull(await Store.GetAsync(Owner, id, Ct));
    }

    [Fact]
    public async Task Get_DefaultTenant_DoesNotSeeNamedTenantsJobs()
    {
        var id = await EnqueueAsync(NewJob(tenant: Owner));

        Assert.Null(await Store.GetAsync(DefaultTenant, id, Ct));
    }

    [Fact]
    public async Task List_ReturnsOnlyTheTenantsJobs()
    {
        var mine = await EnqueueAsync(NewJob(tenant: Owner));
        await EnqueueAsync(NewJob(tenant: Stranger));
        await EnqueueAsync(NewJob(tenant: DefaultTenant));

        var page = await Store.ListAsync(new JobQuery { Tenant = Owner }, Ct);

        Assert.Equal([mine], page.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task List_TenantWithoutJobs_IsEmpty()
    {
        await EnqueueAsync(NewJob(tenant: Owner));

        var page = await Store.ListAsync(new JobQuery { Tenant = Stranger }, Ct);

        Assert.Empty(page.Jobs);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task List_PagingOneTenant_NeverShowsAnotherTenantsJobs()
    {
        var mine = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            mine.Add(await EnqueueAsync(NewJob(tenant: Owner)));
            await EnqueueAsync(NewJob(tenant: Stranger));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var listed = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Store.ListAsync(new JobQuery { Tenant = Owner, Limit = 4, Cursor = cursor }, Ct);
            Assert.All(page.Jobs, static j => Assert.Equal(Owner, j.Tenant));
            listed.AddRange(page.Jobs.Select(static j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Reverse(mine), listed);
    }

    [Fact]
    public async Task List_FilteredByQueue_StillScopedToTenant()
    {
        await EnqueueAsync(NewJob(tenant: Stranger, queue: "shared"));
        var mine = await EnqueueAsync(NewJob(tenant: Owner, queue: "shared"));

        var page = await Store.ListAsync(new JobQuery { Tenant = Owner, Queue = "shared" }, Ct);

        Assert.Equal([mine], page.Jobs.Select(static j => j.Id));
    }

    [Theory]
    [MemberData(nameof(UnfinishedStates))]
    public async Task Cancel_AnotherTenantsJob_IsNotFoundAndChangesNothing(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(tenant: Owner));

        Assert.Equal(JobCommandResult.NotFound, await Store.CancelAsync(Stranger, id, Ct));

        var job = await GetAsync(id, Owner);
        Assert.Equal(state, job.State);
        Assert.False(job.CancelRequested);
    }

    [Theory]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Scheduled)]
    public async Task Requeue_AnotherTenantsJob_IsNotFoundAndChangesNothing(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(tenant: Owner));

        Assert.Equal(JobCommandResult.NotFound, await Store.RequeueAsync(Stranger, id, Ct));

        await AssertStateAsync(id, state, Owner);
    }

    [Theory]
    [InlineData(JobState.Pending)]
    [InlineData(JobState.Succeeded)]
    public async Task Delete_AnotherTenantsJob_IsNotFoundAndKeepsIt(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(tenant: Owner));

        Assert.Equal(JobCommandResult.NotFound, await Store.DeleteAsync(Stranger, id, Ct));

        await AssertStateAsync(id, state, Owner);
    }

    [Fact]
    public async Task Commands_UnknownId_AreNotFound()
    {
        Assert.Equal(JobCommandResult.NotFound, await Store.CancelAsync(Owner, "no-such-job", Ct));
        Assert.Equal(JobCommandResult.NotFound, await Store.RequeueAsync(Owner, "no-such-job", Ct));
        Assert.Equal(JobCommandResult.NotFound, await Store.DeleteAsync(Owner, "no-such-job", Ct));
    }

    [Fact]
    public async Task Dequeue_TakesJobsOfEveryTenantInFifoOrder()
    {
        var a = await EnqueueAsync(NewJob(tenant: Owner));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var b = await EnqueueAsync(NewJob(tenant: Stranger));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var c = await EnqueueAsync(NewJob(tenant: Owner));

        var leased = await DequeueAsync(10);

        Assert.Equal([a, b, c], leased.Select(static j => j.Id));
        Assert.Equal([Owner, Stranger, Owner], leased.Select(static j => j.Tenant));
    }

    [Fact]
    public async Task QueueStats_CountJobsOfEveryTenant()
    {
        await EnqueueAsync(NewJob(tenant: Owner, queue: "shared"));
        await EnqueueAsync(NewJob(tenant: Stranger, queue: "shared"));

        var stats = Assert.Single(await Store.GetQueueStatsAsync(Ct));

        Assert.Equal(2, stats.Pending);
    }

    [Fact]
    public async Task Acknowledge_WorksForJobsOfAnyTenant()
    {
        var id = await EnqueueAsync(NewJob(tenant: Stranger));
        var leased = await DequeueOneAsync();

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));

        await AssertStateAsync(id, JobState.Succeeded, Stranger);
    }
}
