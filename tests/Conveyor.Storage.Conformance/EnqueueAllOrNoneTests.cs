namespace Conveyor.Storage.Conformance;

/// <summary>
/// All-or-none enqueue (the fan-out's store operation): every job of the list is stored, each in its own queue with its
/// own options, or none is, whatever refused it or whatever failed on the way.
/// </summary>
public abstract class EnqueueAllOrNoneTests : JobStoreTestBase
{
    /// <summary>
    /// Makes the store fail part-way through its next write, after <paramref name="failingJobId"/>'s predecessors of the
    /// same list may have been written, as a store that goes away mid-write would; returns the exception type the store
    /// then throws, or null when the store's test project cannot inject such a fault (the test then passes trivially).
    /// </summary>
    protected virtual ValueTask<Type?> ArmFailureMidWriteAsync(string failingJobId) => ValueTask.FromResult<Type?>(null);

    [Fact]
    public async Task EnqueueAllOrNone_StoresEveryJobInItsQueueWithItsOptions()
    {
        NewJob[] jobs =
        [
            NewJob(type: "note:created.index-note", queue: "default", maxRetry: 5, timeout: TimeSpan.FromSeconds(30)),
            NewJob(type: "note:created.notify-followers", queue: "low", maxRetry: 0),
            NewJob(type: "note:created.warm-cache", queue: "critical", maxRetry: 9, processAt: Now.AddMinutes(1)),
        ];

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.True(result.AllStored);
        Assert.Equal(-1, result.RefusedIndex);
        Assert.Null(result.Refusal);
        Assert.Equal(jobs.Select(j => j.Id), result.Results.Select(r => r.JobId));
        Assert.All(result.Results, r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
        Assert.Equal([JobState.Pending, JobState.Pending, JobState.Scheduled], result.Results.Select(r => r.State));
        Assert.Equal(["default", "low", "critical"], result.Results.Select(r => r.Queue));
        Assert.All(result.Results, r => Assert.Equal(StartTime, r.CreatedAt));
        for (var i = 0; i < jobs.Length; i++)
        {
            var stored = await GetAsync(jobs[i].Id);
            Assert.Equal(jobs[i].Type, stored.Type);
            Assert.Equal(jobs[i].Queue, stored.Queue);
            Assert.Equal(jobs[i].MaxRetry, stored.MaxRetry);
            Assert.Equal(jobs[i].Timeout, stored.Timeout);
        }

        Assert.Equal(jobs[0].Id, (await DequeueOneAsync("default")).Id);
        Assert.Equal(jobs[1].Id, (await DequeueOneAsync("low")).Id);
        await AssertNothingToDequeueAsync("critical");
    }

    [Fact]
    public async Task EnqueueAllOrNone_ManyJobsInOneQueue_ComeOutInListOrder()
    {
        var jobs = Enumerable.Range(0, 5).Select(_ => NewJob(queue: "events")).ToArray();

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.True(result.AllStored);
        var leased = await Store.DequeueAsync(Request(10, queues: "events"), Ct);
        Assert.Equal(jobs.Select(j => j.Id), leased.Select(j => j.Id));
    }

    [Fact]
    public async Task EnqueueAllOrNone_EmptyList_StoresNothingAndSaysAllStored()
    {
        var result = await Store.EnqueueAllOrNoneAsync([], Ct);

        Assert.True(result.AllStored);
        Assert.Empty(result.Results);
    }

    [Fact]
    public async Task EnqueueAllOrNone_OneIdExists_NoneIsWritten()
    {
        var existing = await EnqueueAsync(NewJob(id: "order-7", queue: "mail"));
        Time.Advance(TimeSpan.FromSeconds(1));
        NewJob[] jobs = [NewJob(queue: "a"), NewJob(id: "order-7", queue: "b"), NewJob(queue: "c")];

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.False(result.AllStored);
        Assert.Empty(result.Results);
        Assert.Equal(1, result.RefusedIndex);
        Assert.Equal(EnqueueOutcome.DuplicateId, result.Refusal!.Outcome);
        Assert.Equal(existing, result.Refusal.JobId);
        Assert.Equal(JobState.Pending, result.Refusal.State);
        Assert.Equal(StartTime, result.Refusal.CreatedAt);
        await AssertNoneWrittenAsync(jobs, except: existing);
        Assert.Equal("mail", (await GetAsync(existing)).Queue);
    }

    [Fact]
    public async Task EnqueueAllOrNone_OneUniqueKeyHeld_NoneIsWritten()
    {
        var holder = await EnqueueAsync(NewJob(queue: "mail", uniqueKey: "note-42", uniqueUntil: Now.AddHours(1)));
        NewJob[] jobs =
        [
            NewJob(queue: "a", uniqueKey: "note-42:a", uniqueUntil: Now.AddHours(1)),
            NewJob(queue: "b", uniqueKey: "note-42", uniqueUntil: Now.AddHours(1)),
        ];

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.False(result.AllStored);
        Assert.Equal(1, result.RefusedIndex);
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Refusal!.Outcome);
        Assert.Equal(holder, result.Refusal.JobId);
        Assert.Equal("mail", result.Refusal.Queue);
        await AssertNoneWrittenAsync(jobs, except: holder);

        // The first job's key was not left claimed by the refused list.
        var again = await Store.EnqueueAsync(NewJob(queue: "a", uniqueKey: "note-42:a", uniqueUntil: Now.AddHours(1)), Ct);
        Assert.Equal(EnqueueOutcome.Enqueued, again.Outcome);
    }

    [Fact]
    public async Task EnqueueAllOrNone_UniqueKeyOfAnotherTenant_DoesNotRefuse()
    {
        await EnqueueAsync(NewJob(tenant: "acme", uniqueKey: "k", uniqueUntil: Now.AddHours(1)));

        var result = await Store.EnqueueAllOrNoneAsync([NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1))], Ct);

        Assert.True(result.AllStored);
    }

    [Fact]
    public async Task EnqueueAllOrNone_UniqueKeyPastItsTimeToLive_DoesNotRefuse()
    {
        await EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(2));
        NewJob[] jobs = [NewJob(queue: "a", uniqueKey: "k", uniqueUntil: Now.AddHours(1)), NewJob(queue: "b")];

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.True(result.AllStored);
        var refused = await Store.EnqueueAsync(NewJob(uniqueKey: "k", uniqueUntil: Now.AddHours(1)), Ct);
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, refused.Outcome);
        Assert.Equal(jobs[0].Id, refused.JobId);
    }

    [Fact]
    public async Task EnqueueAllOrNone_SameIdTwiceInTheList_NoneIsWritten()
    {
        NewJob[] jobs = [NewJob(queue: "a"), NewJob(id: "twice", queue: "a"), NewJob(id: "twice", queue: "b")];

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.False(result.AllStored);
        Assert.Equal(2, result.RefusedIndex);
        Assert.Equal(EnqueueOutcome.DuplicateId, result.Refusal!.Outcome);
        Assert.Equal("twice", result.Refusal.JobId);
        await AssertNoneWrittenAsync(jobs);
    }

    [Fact]
    public async Task EnqueueAllOrNone_SameUniqueKeyTwiceInTheList_NoneIsWritten()
    {
        NewJob[] jobs =
        [
            NewJob(queue: "a", uniqueKey: "k", uniqueUntil: Now.AddHours(1)),
            NewJob(queue: "b", uniqueKey: "k", uniqueUntil: Now.AddHours(1)),
        ];

        var result = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.False(result.AllStored);
        Assert.Equal(1, result.RefusedIndex);
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, result.Refusal!.Outcome);
        Assert.Equal(jobs[0].Id, result.Refusal.JobId);
        await AssertNoneWrittenAsync(jobs);
    }

    [Fact]
    public async Task EnqueueAllOrNone_Refused_TheSameJobsCanBeStoredOnceTheDuplicateIsGone()
    {
        NewJob[] jobs = [NewJob(id: "fan-1", queue: "a"), NewJob(id: "fan-2", queue: "b"), NewJob(id: "fan-2", queue: "c")];
        Assert.False((await Store.EnqueueAllOrNoneAsync(jobs, Ct)).AllStored);

        var result = await Store.EnqueueAllOrNoneAsync(jobs[..2], Ct);

        Assert.True(result.AllStored);
        Assert.Equal(["fan-1", "fan-2"], result.Results.Select(r => r.JobId));
        Assert.Equal("b", (await GetAsync("fan-2")).Queue);
    }

    [Fact]
    public async Task EnqueueAllOrNone_StoredTwice_SecondIsRefusedWhole()
    {
        NewJob[] jobs = [NewJob(id: "event-9.a", queue: "a"), NewJob(id: "event-9.b", queue: "b")];
        Assert.True((await Store.EnqueueAllOrNoneAsync(jobs, Ct)).AllStored);

        var again = await Store.EnqueueAllOrNoneAsync(jobs, Ct);

        Assert.False(again.AllStored);
        Assert.Equal(0, again.RefusedIndex);
        Assert.Equal("event-9.a", again.Refusal!.JobId);
        Assert.Single(await Store.DequeueAsync(Request(10, queues: "b"), Ct));
    }

    [Fact]
    public async Task EnqueueAllOrNone_StoreFailsPartWay_NothingIsWritten()
    {
        NewJob[] jobs = [NewJob(queue: "a"), NewJob(queue: "b"), NewJob(queue: "c")];
        var expected = await ArmFailureMidWriteAsync(jobs[2].Id);
        if (expected is null)
        {
            return;
        }

        var thrown = await Assert.ThrowsAnyAsync<Exception>(async () => await Store.EnqueueAllOrNoneAsync(jobs, Ct));

        Assert.IsType(expected, thrown);
        await AssertNoneWrittenAsync(jobs);
    }

    private async Task AssertNoneWrittenAsync(IEnumerable<NewJob> jobs, string? except = null)
    {
        foreach (var job in jobs.Where(j => j.Id != except))
        {
            Assert.Null(await Store.GetAsync(job.Tenant, job.Id, Ct));
        }

        foreach (var queue in jobs.Select(j => j.Queue).Distinct())
        {
            var leased = await Store.DequeueAsync(Request(100, queues: queue), Ct);
            Assert.All(leased, j => Assert.Equal(except, j.Id));
        }

        var page = await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct);
        Assert.All(page.Jobs, j => Assert.Equal(except, j.Id));
    }
}
