namespace Conveyor.Storage.Conformance;

/// <summary>Get and List: lookup by id, newest-first listing, filters and cursors.</summary>
public abstract partial class QueryTests : JobStoreTestBase
{
    private async Task<JobPage> ListAsync(JobState? state = null, string? type = null, string? queue = null, int limit = 50, string? cursor = null, string tenant = DefaultTenant) =>
        await Store.ListAsync(new JobQuery { Tenant = tenant, State = state, Type = type, Queue = queue, Limit = limit, Cursor = cursor }, Ct);

    private async Task<List<string>> ListAllIdsAsync(int pageSize, JobState? state = null)
    {
        var ids = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ListAsync(state: state, limit: pageSize, cursor: cursor);
            Assert.True(page.Jobs.Count <= pageSize);
            Assert.True(page.NextCursor is null || page.Jobs.Count == pageSize, "Only the last page may be short.");
            ids.AddRange(page.Jobs.Select(static j => j.Id));
            cursor = page.NextCursor;
            Assert.True(++pages < 1000, "The cursor never reached the end.");
        }
        while (cursor is not null);

        return ids;
    }

    [Fact]
    public async Task Get_UnknownId_ReturnsNull()
    {
        await EnqueueAsync();

        Assert.Null(await Store.GetAsync(DefaultTenant, "job_00000000000000000000000000000000", Ct));
    }

    [Fact]
    public async Task Get_EmptyStore_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync(DefaultTenant, "anything", Ct));
    }

    [Fact]
    public async Task List_EmptyStore_ReturnsEmptyLastPage()
    {
        var page = await ListAsync();

        Assert.Empty(page.Jobs);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task List_IsNewestFirstByCreatedAt()
    {
        var ids = await EnqueueManyAsync(5);

        var page = await ListAsync();

        Assert.Equal(Enumerable.Reverse(ids), page.Jobs.Select(static j => j.Id));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task List_SameCreatedAt_OrderedByIdDescending()
    {
        var ids = new[] { "job-b", "job-d", "job-a", "job-c" };
        foreach (var id in ids)
        {
            await EnqueueAsync(NewJob(id: id));
        }

        var page = await ListAsync();

        Assert.Equal(["job-d", "job-c", "job-b", "job-a"], page.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task List_ReturnsFullJobs()
    {
        var id = await EnqueueAsync(NewJob(type: "mail:send", payload: "{\"x\":1}"u8.ToArray(), maxRetry: 4));

        var job = Assert.Single((await ListAsync()).Jobs);

        Assert.Equal(id, job.Id);
        Assert.Equal("mail:send", job.Type);
        Assert.Equal("{\"x\":1}"u8.ToArray(), job.Payload.ToArray());
        Assert.Equal(4, job.MaxRetry);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(StartTime, job.CreatedAt);
    }

    [Fact]
    public async Task List_FilterByState_ReturnsOnlyThatState()
    {
        var pending = await CreateJobInStateAsync(JobState.Pending, NewJob(queue: "p"));
        var failed = await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "f"));
        var scheduled = await CreateJobInStateAsync(JobState.Scheduled, NewJob(queue: "s"));

        Assert.Equal([pending], (await ListAsync(state: JobState.Pending)).Jobs.Select(static j => j.Id));
        Assert.Equal([failed], (await ListAsync(state: JobState.Failed)).Jobs.Select(static j => j.Id));
        Assert.Equal([scheduled], (await ListAsync(state: JobState.Scheduled)).Jobs.Select(static j => j.Id));
        Assert.Empty((await ListAsync(state: JobState.Succeeded)).Jobs);
    }

    [Theory]
    [MemberData(nameof(AllStates))]
    public async Task List_FilterByEveryState_FindsAJobInThatState(JobState state)
    {
        var id = await CreateJobInStateAsync(state);
        await EnqueueAsync(NewJob(queue: "noise"));

        var page = await ListAsync(state: state);

        Assert.Contains(id, page.Jobs.Select(static j => j.Id));
        Assert.All(page.Jobs, j => Assert.Equal(state, j.State));
    }

    [Fact]
    public async Task List_FilterByType_ReturnsOnlyThatType()
    {
        var mail = await EnqueueAsync(NewJob(type: "mail:send"));
        await EnqueueAsync(NewJob(type: "report:build"));

        var page = await ListAsync(type: "mail:send");

        Assert.Equal([mail], page.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task List_FilterByQueue_ReturnsOnlyThatQueue()
    {
        await EnqueueAsync(NewJob(queue: "critical"));
        var low = await EnqueueAsync(NewJob(queue: "low"));

        var page = await ListAsync(queue: "low");

        Assert.Equal([low], page.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task List_FiltersCombined_AllMustMatch()
    {
        var match = await EnqueueAsync(NewJob(type: "mail:send", queue: "mail"));
        await EnqueueAsync(NewJob(type: "mail:send", queue: "other"));
        await EnqueueAsync(NewJob(type: "report:build", queue: "mail"));
        await CreateJobInStateAsync(JobState.Active, NewJob(type: "mail:send", queue: "busy"));
        await EnqueueAsync(NewJob(type: "mail:send", queue: "mail", processAt: Now.AddHours(1)));

        var page = await ListAsync(state: JobState.Pending, type: "mail:send", queue: "mail");

        Assert.Equal([match], page.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task List_Limit_IsRespectedAndGivesACursor()
    {
        await EnqueueManyAsync(5);

        var page = await ListAsync(limit: 3);

        Assert.Equal(3, page.Jobs.Count);
        Assert.NotNull(page.NextCursor);
    }

    [Fact]
    public async Task List_ExactlyLimitJobsLeft_LastPageHasNoCursor()
    {
        await EnqueueManyAsync(6);

        var first = await ListAsync(limit: 3);
        var second = await ListAsync(limit: 3, cursor: first.NextCursor);

        Assert.Equal(3, second.Jobs.Count);
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task List_LimitOfOne_PagesOneByOneNewestFirst()
    {
        var ids = await EnqueueManyAsync(4);

        var listed = await ListAllIdsAsync(1);

        Assert.Equal(Enumerable.Reverse(ids), listed);
    }

    [Fact]
    public async Task List_PagingWithCursor_VisitsEveryJobOnceInOrder()
    {
        var ids = await EnqueueManyAsync(23);

        var listed = await ListAllIdsAsync(5);

        Assert.Equal(Enumerable.Reverse(ids), listed);
    }

    [Fact]
    public async Task List_PagingThroughJobsCreatedAtTheSameInstant_HasNoDuplicatesOrGaps()
    {
        // Several jobs per timestamp, so the cursor must break ties by id.
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add(await EnqueueAsync());
            if (i % 4 == 3)
            {
                Time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var listed = await ListAllIdsAsync(7);

        Assert.Equal(ids.Count, listed.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        var byId = (await ListAsync(limit: 1000)).Jobs.Select(static j => j.Id).ToList();
        Assert.Equal(byId, listed);
    }

    [Fact]
    public async Task List_PagingWithFilter_VisitsEveryMatchingJobOnce()
    {
        var failed = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            await EnqueueAsync(NewJob(queue: "noise"));
            failed.Add(await CreateJobInStateAsync(JobState.Failed, NewJob(queue: "work")));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var listed = await ListAllIdsAsync(5, JobState.Failed);

        Assert.Equal(Enumerable.Reverse(failed), listed);
    }

    [Fact]
    public async Task List_JobsAddedWhilePaging_DoNotShiftLaterPages()
    {
        var ids = await EnqueueManyAsync(6);
        var first = await ListAsync(limit: 3);
        await EnqueueManyAsync(4);

        var second = await ListAsync(limit: 3, cursor: first.NextCursor);

        Assert.Equal(ids.Take(3).Reverse(), second.Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task List_MaxLimit_IsAccepted()
    {
        await EnqueueManyAsync(3);

        var page = await ListAsync(limit: JobQuery.MaxLimit);

        Assert.Equal(3, page.Jobs.Count);
    }

    [Theory]
    [InlineData("not a cursor")]
    [InlineData("!!!")]
    [InlineData("bm90LWEtY3Vyc29y")]
    public async Task List_CursorTheStoreDidNotMake_ThrowsArgumentException(string cursor)
    {
        await EnqueueManyAsync(3);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await ListAsync(cursor: cursor));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(JobQuery.MaxLimit + 1)]
    public async Task List_LimitOutOfRange_ThrowsArgumentException(int limit)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await ListAsync(limit: limit));
    }

    [Fact]
    public async Task List_ShowsStateChanges()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));

        var job = Assert.Single((await ListAsync()).Jobs);

        Assert.Equal(id, job.Id);
        Assert.Equal(JobState.Succeeded, job.State);
    }

    [Fact]
    public async Task List_DeletedJob_IsGone()
    {
        var ids = await EnqueueManyAsync(3);
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, ids[1], Ct));

        var page = await ListAsync();

        Assert.Equal([ids[2], ids[0]], page.Jobs.Select(static j => j.Id));
    }
}
