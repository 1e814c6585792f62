namespace Conveyor.Storage.Conformance;

/// <summary>Enqueue: the state a new job gets, what round-trips, duplicate ids and batches.</summary>
/// <remarks>Unique keys are in EnqueueTests.UniqueKeys.cs.</remarks>
public abstract partial class EnqueueTests : JobStoreTestBase
{
    [Fact]
    public async Task Enqueue_WithoutProcessAt_IsPending()
    {
        var result = await Store.EnqueueAsync(NewJob(), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        Assert.Equal(JobState.Pending, result.State);
        Assert.False(result.IsDuplicate);
        await AssertStateAsync(result.JobId, JobState.Pending);
    }

    [Fact]
    public async Task Enqueue_ProcessAtInThePast_IsPending()
    {
        var result = await Store.EnqueueAsync(NewJob(processAt: Now.AddMinutes(-5)), Ct);

        Assert.Equal(JobState.Pending, result.State);
        await AssertStateAsync(result.JobId, JobState.Pending);
    }

    [Fact]
    public async Task Enqueue_ProcessAtEqualToNow_IsPending()
    {
        var result = await Store.EnqueueAsync(NewJob(processAt: Now), Ct);

        Assert.Equal(JobState.Pending, result.State);
        await AssertStateAsync(result.JobId, JobState.Pending);
    }

    [Fact]
    public async Task Enqueue_ProcessAtInTheFuture_IsScheduledWithScheduledAt()
    {
        var processAt = Now.AddSeconds(1);

        var result = await Store.EnqueueAsync(NewJob(processAt: processAt), Ct);

        Assert.Equal(JobState.Scheduled, result.State);
        var job = await GetAsync(result.JobId);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(processAt, job.ScheduledAt);
    }

    [Fact]
    public async Task Enqueue_Result_CarriesIdQueueAndCreatedAtFromTheTimeProvider()
    {
        Time.Advance(TimeSpan.FromMinutes(3));
        var job = NewJob(queue: "mail");

        var result = await Store.EnqueueAsync(job, Ct);

        Assert.Equal(job.Id, result.JobId);
        Assert.Equal("mail", result.Queue);
        Assert.Equal(StartTime.AddMinutes(3), result.CreatedAt);
    }

    [Fact]
    public async Task Enqueue_EveryField_RoundTripsThroughGet()
    {
        var deadline = Now.AddDays(2).AddMilliseconds(250);
        var processAt = Now.AddHours(1).AddMilliseconds(500);
        var uniqueUntil = Now.AddHours(3);
        var job = NewJob(
            id: "order-42:confirm.v1",
            type: "order:confirm",
            queue: "critical",
            tenant: "acme",
            payload: """{"orderId":42,"note":"ünïcødé ✓"}"""u8.ToArray(),
            maxRetry: 7,
            timeout: TimeSpan.FromSeconds(90.5),
            deadline: deadline,
            processAt: processAt,
            uniqueKey: "order-42",
            uniqueUntil: uniqueUntil,
            retention: TimeSpan.FromHours(36),
            traceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        await EnqueueAsync(job);

        var stored = await GetAsync(job.Id, "acme");
        Assert.Equal(job.Id, stored.Id);
        Assert.Equal("order:confirm", stored.Type);
        Assert.Equal("critical", stored.Queue);
        Assert.Equal("acme", stored.Tenant);
        Assert.Equal(JobState.Scheduled, stored.State);
        Assert.Equal(job.Payload.ToArray(), stored.Payload.ToArray());
        Assert.Equal(0, stored.Attempts);
        Assert.Equal(7, stored.MaxRetry);
        Assert.Equal(TimeSpan.FromSeconds(90.5), stored.Timeout);
        Assert.Equal(deadline, stored.Deadline);
        Assert.Equal(processAt, stored.ScheduledAt);
        Assert.Equal("order-42", stored.UniqueKey);
        Assert.Equal(TimeSpan.FromHours(36), stored.Retention);
        Assert.Equal(0, stored.Progress);
        Assert.Null(stored.Result);
        Assert.Null(stored.ResultUrl);
        Assert.Empty(stored.Errors);
        Assert.Equal(job.TraceParent, stored.TraceParent);
        Assert.Equal(StartTime, stored.CreatedAt);
        Assert.Equal(StartTime, stored.UpdatedAt);
        Assert.Null(stored.StartedAt);
        Assert.Null(stored.CompletedAt);
        Assert.False(stored.CancelRequested);
    }

    [Fact]
    public async Task Enqueue_OptionalFieldsLeftOut_RoundTripAsNull()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 0));

        var stored = await GetAsync(id);
        Assert.Null(stored.Timeout);
        Assert.Null(stored.Deadline);
        Assert.Null(stored.UniqueKey);
        Assert.Null(stored.TraceParent);
        Assert.Equal(0, stored.MaxRetry);
    }

    [Fact]
    public async Task Enqueue_CreatedAt_IsTheTimeProvidersNow()
    {
        Time.Advance(TimeSpan.FromSeconds(17.125));

        var id = await EnqueueAsync();

        var stored = await GetAsync(id);
        Assert.Equal(StartTime.AddSeconds(17.125), stored.CreatedAt);
        Assert.Equal(StartTime.AddSeconds(17.125), stored.UpdatedAt);
    }

    [Fact]
    public async Task Enqueue_EmptyPayload_RoundTripsAsEmpty()
    {
        var id = await EnqueueAsync(NewJob(payload: []));

        Assert.Equal(0, (await GetAsync(id)).Payload.Length);
        Assert.Equal(0, (await DequeueOneAsync()).Payload.Length);
    }

    [Fact]
    public async Task Enqueue_OneMebibytePayload_RoundTripsByteForByte()
    {
        var payload = Bytes(1024 * 1024);

        var id = await EnqueueAsync(NewJob(payload: payload));

        var stored = await GetAsync(id);
        Assert.True(payload.AsSpan().SequenceEqual(stored.Payload.Span), "Get returned a different payload.");
        var leased = await DequeueOneAsync();
        Assert.True(payload.AsSpan().SequenceEqual(leased.Payload.Span), "Dequeue returned a different payload.");
    }

    [Fact]
    public async Task Enqueue_BinaryPayloadWithEveryByteValue_RoundTripsExactly()
    {
        var payload = Enumerable.Range(0, 256).Select(static b => (byte)b).Concat(Enumerable.Range(0, 256).Select(static b => (byte)(255 - b))).ToArray();

        var id = await EnqueueAsync(NewJob(payload: payload));

        Assert.Equal(payload, (await GetAsync(id)).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_CallerChangesPayloadArrayAfterwards_StoredPayloadUnchanged()
    {
        var payload = "{\"a\":1}"u8.ToArray();
        var id = await EnqueueAsync(NewJob(payload: payload));

        payload[0] = (byte)'X';

        Assert.Equal("{\"a\":1}"u8.ToArray(), (await GetAsync(id)).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_ExistingExplicitId_IsDuplicateIdWithTheExistingJob()
    {
        var original = NewJob(id: "invoice-2026-001", queue: "mail", payload: "\"original\""u8.ToArray());
        await EnqueueAsync(original);
        Time.Advance(TimeSpan.FromSeconds(5));

        var result = await Store.EnqueueAsync(NewJob(id: "invoice-2026-001", type: "other:type", queue: "low", payload: "\"replacement\""u8.ToArray()), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateId, result.Outcome);
        Assert.True(result.IsDuplicate);
        Assert.Equal("invoice-2026-001", result.JobId);
        Assert.Equal(JobState.Pending, result.State);
        Assert.Equal("mail", result.Queue);
        Assert.Equal(StartTime, result.CreatedAt);
    }

    [Fact]
    public async Task Enqueue_ExistingExplicitId_OverwritesNothing()
    {
        await EnqueueAsync(NewJob(id: "report-7", type: "report:build", queue: "mail", payload: "\"original\""u8.ToArray(), maxRetry: 2));
        Time.Advance(TimeSpan.FromSeconds(5));

        await Store.EnqueueAsync(NewJob(id: "report-7", type: "other:type", queue: "low", payload: "\"replacement\""u8.ToArray(), maxRetry: 9, processAt: Now.AddHours(1)), Ct);

        var stored = await GetAsync("report-7");
        Assert.Equal("report:build", stored.Type);
        Assert.Equal("mail", stored.Queue);
        Assert.Equal("\"original\""u8.ToArray(), stored.Payload.ToArray());
        Assert.Equal(2, stored.MaxRetry);
        Assert.Equal(JobState.Pending, stored.State);
        Assert.Equal(StartTime, stored.UpdatedAt);
        await AssertNothingToDequeueAsync("low");
    }

    [Theory]
    [MemberData(nameof(AllStates))]
    public async Task Enqueue_ExistingIdInAnyState_IsDuplicateIdReportingThatState(JobState state)
    {
        var id = await CreateJobInStateAsync(state, NewJob(id: "fixed-id"));

        var result = await Store.EnqueueAsync(NewJob(id: id), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateId, result.Outcome);
        Assert.Equal(state, result.State);
        await AssertStateAsync(id, state);
    }

    [Fact]
    public async Task Enqueue_ExistingIdOfAnotherTenant_IsDuplicateIdAndLeavesItUntouched()
    {
        // Ids are global (GET /jobs/{id} finds a job by id alone), so an id cannot be reused by another tenant.
        await EnqueueAsync(NewJob(id: "shared-id", tenant: "acme", payload: "\"acme\""u8.ToArray()));

        var result = await Store.EnqueueAsync(NewJob(id: "shared-id", tenant: "globex"), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateId, result.Outcome);
        Assert.Null(await Store.GetAsync("globex", "shared-id", Ct));
        Assert.Equal("\"acme\""u8.ToArray(), (await GetAsync("shared-id", "acme")).Payload.ToArray());
    }

    [Fact]
    public async Task Enqueue_IdOfADeletedJob_IsStoredAgain()
    {
        var id = await CreateJobInStateAsync(JobState.Succeeded, NewJob(id: "reusable"));
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));

        var result = await Store.EnqueueAsync(NewJob(id: "reusable"), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        await AssertStateAsync("reusable", JobState.Pending);
    }

    [Fact]
    public async Task EnqueueMany_ReturnsOneResultPerJobInOrder()
    {
        var jobs = Enumerable.Range(0, 5).Select(i => NewJob(queue: i % 2 == 0 ? "even" : "odd")).ToArray();

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.Equal(jobs.Length, results.Count);
        for (var i = 0; i < jobs.Length; i++)
        {
            Assert.Equal(EnqueueOutcome.Enqueued, results[i].Outcome);
            Assert.Equal(jobs[i].Id, results[i].JobId);
            Assert.Equal(jobs[i].Queue, results[i].Queue);
            Assert.Equal(Now, results[i].CreatedAt);
            await AssertStateAsync(jobs[i].Id, JobState.Pending);
        }
    }

    [Fact]
    public async Task EnqueueMany_MixOfPendingAndScheduled_EachGetsItsOwnState()
    {
        var jobs = new[] { NewJob(), NewJob(processAt: Now.AddMinutes(1)), NewJob(processAt: Now.AddMinutes(-1)) };

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.Equal([JobState.Pending, JobState.Scheduled, JobState.Pending], results.Select(static r => r.State));
    }

    [Fact]
    public async Task EnqueueMany_DuplicateIdOfAnExistingJob_OnlyThatOneRefused()
    {
        await EnqueueAsync(NewJob(id: "existing"));
        var jobs = new[] { NewJob(), NewJob(id: "existing"), NewJob() };

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.Equal([EnqueueOutcome.Enqueued, EnqueueOutcome.DuplicateId, EnqueueOutcome.Enqueued], results.Select(static r => r.Outcome));
        Assert.Equal("existing", results[1].JobId);
        await AssertStateAsync(jobs[0].Id, JobState.Pending);
        await AssertStateAsync(jobs[2].Id, JobState.Pending);
    }

    [Fact]
    public async Task EnqueueMany_SameIdTwiceInOneBatch_SecondIsDuplicateOfTheFirst()
    {
        var jobs = new[] { NewJob(id: "twice", payload: "1"u8.ToArray()), NewJob(id: "twice", payload: "2"u8.ToArray()) };

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, results[0].Outcome);
        Assert.Equal(EnqueueOutcome.DuplicateId, results[1].Outcome);
        Assert.Equal("twice", results[1].JobId);
        Assert.Equal("1"u8.ToArray(), (await GetAsync("twice")).Payload.ToArray());
    }

    [Fact]
    public async Task EnqueueMany_EmptyBatch_ReturnsNoResults()
    {
        var results = await Store.EnqueueManyAsync([], Ct);

        Assert.Empty(results);
    }

    [Fact]
    public async Task EnqueueMany_ManyJobs_AllStoredAndDequeuedInBatchOrder()
    {
        var jobs = Enumerable.Range(0, 200).Select(_ => NewJob(queue: "bulk")).ToArray();

        var results = await Store.EnqueueManyAsync(jobs, Ct);

        Assert.All(results, static r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
        var leased = await Store.DequeueAsync(Request(200, queues: "bulk"), Ct);
        Assert.Equal(jobs.Select(static j => j.Id), leased.Select(static j => j.Id));
    }

    [Fact]
    public async Task Enqueue_ConcurrentJobsWithTheSameId_ExactlyOneStored()
    {
        var jobs = Enumerable.Range(0, 10).Select(i => NewJob(id: "contended-id", payload: [(byte)i])).ToArray();

        var results = await Task.WhenAll(jobs.Select(job => Task.Run(async () => await Store.EnqueueAsync(job, Ct))));

        Assert.Single(results, static r => r.Outcome == EnqueueOutcome.Enqueued);
        Assert.Equal(9, results.Count(static r => r.Outcome == EnqueueOutcome.DuplicateId));
        Assert.Single(await DequeueAsync(100));
    }
}
