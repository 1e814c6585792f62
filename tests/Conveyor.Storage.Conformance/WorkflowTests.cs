namespace Conveyor.Storage.Conformance;

/// <summary>
/// Workflows: jobs that wait (continuations, batch callbacks) are invisible to dequeue until the transition that
/// finishes their last dependency releases them, in the same atomic step, exactly once.
/// </summary>
public abstract partial class WorkflowTests : JobStoreTestBase
{
    /// <summary>False for a store that does not implement workflows yet: its tests then pass trivially.</summary>
    protected virtual bool SupportsWorkflows => true;

    protected static NewJob After(NewJob job, params string[] dependencies) =>
        job with { DependsOn = dependencies.Select(static d => new JobDependency(d, SuccessOnly: true)).ToArray() };

    protected static NewJob AfterAny(NewJob job, params string[] dependencies) =>
        job with { DependsOn = dependencies.Select(static d => new JobDependency(d, SuccessOnly: false)).ToArray() };

    /// <summary>Dequeues the one pending job of <paramref name="queue"/> and acknowledges it with <paramref name="outcome"/>.</summary>
    protected async Task<string> RunOneAsync(string queue, AckOutcome outcome, byte[]? result = null)
    {
        var leased = await DequeueOneAsync(queue);
        var error = outcome is AckOutcome.Failed ? Error(leased.Attempt) : null;
        Assert.True(await AckAsync(Ack(leased, outcome, error, result: result)));
        return leased.Id;
    }

    protected async Task<QueueStats> StatsOfAsync(string queue) =>
        Assert.Single(await Store.GetQueueStatsAsync(Ct), s => s.Queue == queue);

    [Fact]
    public async Task Continuation_WaitsInvisibly_ThenIsReleasedWhenItsParentSucceeds()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = NewJob(queue: "children");
        var stored = await Store.EnqueueAsync(After(child, parent), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, stored.Outcome);
        Assert.Equal(JobState.Waiting, stored.State);
        await AssertNothingToDequeueAsync("children");
        var stats = await StatsOfAsync("children");
        Assert.Equal((1, 0), (stats.Waiting, stats.Pending));
        var waiting = await Store.ListAsync(new JobQuery { Tenant = DefaultTenant, State = JobState.Waiting }, Ct);
        Assert.Equal([child.Id], waiting.Jobs.Select(static j => j.Id));
        var info = await GetAsync(child.Id);
        Assert.Equal([new JobDependency(parent, SuccessOnly: true)], info.DependsOn);

        await RunOneAsync("parents", AckOutcome.Succeeded, result: "42"u8.ToArray());

        await AssertStateAsync(child.Id, JobState.Pending);
        Assert.Equal(child.Id, (await DequeueOneAsync("children")).Id);
        Assert.Equal("42"u8.ToArray(), (await GetAsync(parent)).Result!.Value.ToArray());
        stats = await StatsOfAsync("children");
        Assert.Equal((0, 1), (stats.Waiting, stats.Active));
    }

    [Theory]
    [InlineData(AckOutcome.Failed)]
    [InlineData(AckOutcome.Cancelled)]
    public async Task SuccessOnlyContinuation_ParentDoesNotSucceed_IsCancelledWithItsDependantsAndSaysWhy(AckOutcome outcome)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var a = await EnqueueAsync(NewJob(queue: "chain"));
        var b = await EnqueueAsync(After(NewJob(queue: "chain"), a));
        var c = await EnqueueAsync(After(NewJob(queue: "chain"), b));
        var d = await EnqueueAsync(AfterAny(NewJob(queue: "chain"), c));

        await RunOneAsync("chain", outcome);

        await AssertStateAsync(b, JobState.Cancelled);
        await AssertStateAsync(c, JobState.Cancelled);
        Assert.Contains((await GetAsync(b)).Errors, e => e.Message.Contains(a, StringComparison.Ordinal));
        await AssertStateAsync(d, JobState.Pending);
        Assert.Equal(d, (await DequeueOneAsync("chain")).Id);
    }

    [Theory]
    [InlineData(AckOutcome.Succeeded)]
    [InlineData(AckOutcome.Partial)]
    [InlineData(AckOutcome.Failed)]
    [InlineData(AckOutcome.Cancelled)]
    public async Task AnyStateContinuation_IsReleasedWhateverTheParentsOutcome(AckOutcome outcome)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(AfterAny(NewJob(queue: "children"), parent));

        await RunOneAsync("parents", outcome);

        await AssertStateAsync(child, JobState.Pending);
    }

    [Fact]
    public async Task Continuation_PartialParent_CountsAsSuccess()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(After(NewJob(queue: "children"), parent));
        var leased = await DequeueOneAsync("parents");

        Assert.True(await AckAsync(Ack(leased, AckOutcome.Partial, itemErrors: [Error(1, "item failed", null, "item-1")])));

        await AssertStateAsync(child, JobState.Pending);
    }

    [Theory]
    [InlineData(JobState.Succeeded, true, JobState.Pending)]
    [InlineData(JobState.Failed, true, JobState.Cancelled)]
    [InlineData(JobState.Cancelled, true, JobState.Cancelled)]
    [InlineData(JobState.Failed, false, JobState.Pending)]
    [InlineData(JobState.Succeeded, false, JobState.Pending)]
    public async Task Continuation_OfAnAlreadyFinishedJob_IsResolvedAtOnce(JobState parentState, bool successOnly, JobState expected)
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await CreateJobInStateAsync(parentState, NewJob(queue: "parents"));
        var child = NewJob(queue: "children") with { DependsOn = [new JobDependency(parent, successOnly)] };

        var stored = await Store.EnqueueAsync(child, Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, stored.Outcome);
        Assert.Equal(expected, stored.State);
        await AssertStateAsync(child.Id, expected);
        if (expected == JobState.Pending)
        {
            Assert.Equal(child.Id, (await DequeueOneAsync("children")).Id);
        }
    }

    [Fact]
    public async Task Continuation_ReleasedWithAFutureProcessAt_IsScheduled()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(After(NewJob(queue: "children", processAt: Now.AddMinutes(10)), parent));

        await RunOneAsync("parents", AckOutcome.Succeeded);

        await AssertStateAsync(child, JobState.Scheduled);
        Time.Advance(TimeSpan.FromMinutes(10));
        await Store.PromoteDueAsync(100, Ct);
        Assert.Equal(child, (await DequeueOneAsync("children")).Id);
    }

    [Fact]
    public async Task Continuation_OfAnUnknownJobOrAnotherTenantsJob_IsRefusedAndNothingIsStored()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var foreign = await EnqueueAsync(NewJob(tenant: "globex", queue: "parents"));
        var unknown = NewJob(queue: "children");
        var ofForeign = NewJob(queue: "children");

        var first = await Store.EnqueueAsync(After(unknown, "job-that-never-was"), Ct);
        var second = await Store.EnqueueAsync(After(ofForeign, foreign), Ct);

        Assert.Equal((EnqueueOutcome.DependencyNotFound, "job-that-never-was"), (first.Outcome, first.JobId));
        Assert.Equal((EnqueueOutcome.DependencyNotFound, foreign), (second.Outcome, second.JobId));
        Assert.Null(await Store.GetAsync(DefaultTenant, unknown.Id, Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, ofForeign.Id, Ct));
    }

    [Fact]
    public async Task TwoDependencies_FinishedConcurrently_ReleaseTheDependantExactlyOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        for (var round = 0; round < 5; round++)
        {
            var a = await EnqueueAsync(NewJob(queue: "fan-in"));
            var b = await EnqueueAsync(NewJob(queue: "fan-in"));
            var join = await EnqueueAsync(After(NewJob(queue: "join"), a, b));
            var leased = await Store.DequeueAsync(Request(2, queues: "fan-in"), Ct);
            Assert.Equal(2, leased.Count);

            // Two servers acknowledge the last two dependencies at the same time.
            var acks = await Task.WhenAll(
                Task.Run(async () => await Store.AcknowledgeManyAsync([Ack(leased[0], AckOutcome.Succeeded)], Ct)),
                Task.Run(async () => await Store.AcknowledgeManyAsync([Ack(leased[1], AckOutcome.Succeeded)], Ct)));

            Assert.Equal([1, 1], acks);
            await AssertStateAsync(join, JobState.Pending);
            Assert.Equal(join, (await DequeueOneAsync("join")).Id);
            await AssertNothingToDequeueAsync("join");
        }
    }

    [Fact]
    public async Task TwoDependencies_FinishedInOneAcknowledgementBatch_ReleaseTheDependantOnce()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var a = await EnqueueAsync(NewJob(queue: "fan-in"));
        var b = await EnqueueAsync(NewJob(queue: "fan-in"));
        var plain = await EnqueueAsync(NewJob(queue: "fan-in"));
        var join = await EnqueueAsync(After(NewJob(queue: "join"), a, b));
        var leased = await Store.DequeueAsync(Request(3, queues: "fan-in"), Ct);

        var applied = await Store.AcknowledgeManyAsync(leased.Select(j => Ack(j, AckOutcome.Succeeded)).ToList(), Ct);

        Assert.Equal(3, applied);
        await AssertStateAsync(plain, JobState.Succeeded);
        Assert.Equal(join, (await DequeueOneAsync("join")).Id);
        await AssertNothingToDequeueAsync("join");
    }

    [Fact]
    public async Task Continuation_OfAJobWhoseLeaseExpiredOutOfAttempts_IsResolvedByTheRecovery()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents", maxRetry: 0));
        var onlyOnSuccess = await EnqueueAsync(After(NewJob(queue: "children"), parent));
        var always = await EnqueueAsync(AfterAny(NewJob(queue: "children"), parent));
        await DequeueOneAsync("parents");

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        var recovered = await Store.RecoverExpiredLeasesAsync(10, Ct);

        Assert.Equal(JobState.Failed, Assert.Single(recovered).NewState);
        await AssertStateAsync(onlyOnSuccess, JobState.Cancelled);
        await AssertStateAsync(always, JobState.Pending);
    }

    [Fact]
    public async Task WaitingJob_CanBeCancelled_AndItsDependantsFollow_ButNotRequeued()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = await EnqueueAsync(After(NewJob(queue: "children"), parent));
        var grandchild = await EnqueueAsync(After(NewJob(queue: "children"), child));

        Assert.Equal(JobCommandResult.NotAllowed, await Store.RequeueAsync(DefaultTenant, child, Ct));
        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, child, Ct));

        await AssertStateAsync(child, JobState.Cancelled);
        await AssertStateAsync(grandchild, JobState.Cancelled);
        await RunOneAsync("parents", AckOutcome.Succeeded);
        await AssertStateAsync(child, JobState.Cancelled);
        await AssertNothingToDequeueAsync("children");
    }

    [Fact]
    public async Task DeletedDependency_ResolvesWhatWaitsForItAsCancelled()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var onlyOnSuccess = await EnqueueAsync(After(NewJob(queue: "children"), parent));
        var always = await EnqueueAsync(AfterAny(NewJob(queue: "children"), parent));

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, parent, Ct));

        await AssertStateAsync(onlyOnSuccess, JobState.Cancelled);
        await AssertStateAsync(always, JobState.Pending);
    }

    [Fact]
    public async Task Continuation_StoredAgainWithItsIdAfterItsDependencyWasDeleted_IsADuplicate_NotARefusal()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        // An idempotent repeat (POST /jobs with the same Idempotency-Key) must find the job it created, whatever became
        // of what the job waited for since.
        var parent = await EnqueueAsync(NewJob(queue: "parents"));
        var child = After(NewJob(queue: "children"), parent);
        Assert.Equal(EnqueueOutcome.Enqueued, (await Store.EnqueueAsync(child, Ct)).Outcome);
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, parent, Ct));

        var repeat = await Store.EnqueueAsync(child, Ct);

        Assert.Equal((EnqueueOutcome.DuplicateId, child.Id), (repeat.Outcome, repeat.JobId));
        await AssertStateAsync(child.Id, JobState.Cancelled);
    }

    [Fact]
    public async Task Chain_StoredAllOrNone_EarlierJobsOfTheListCanBeWaitedFor()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        var a = NewJob(queue: "chain");
        var b = After(NewJob(queue: "chain"), a.Id);
        var c = After(NewJob(queue: "chain"), b.Id);

        var result = await Store.EnqueueAllOrNoneAsync([a, b, c], Ct);

        Assert.True(result.AllStored);
        Assert.Equal([JobState.Pending, JobState.Waiting, JobState.Waiting], result.Results.Select(static r => r.State));
        await RunOneAsync("chain", AckOutcome.Succeeded);
        Assert.Equal(b.Id, await RunOneAsync("chain", AckOutcome.Succeeded));
        Assert.Equal(c.Id, (await DequeueOneAsync("chain")).Id);
    }

    [Fact]
    public async Task Chain_OneJobRefused_NothingIsStored()
    {
        if (!SupportsWorkflows)
        {
            return;
        }

        await EnqueueAsync(NewJob(id: "taken", queue: "other"));
        var a = NewJob(queue: "chain");
        var b = After(NewJob(id: "taken", queue: "chain"), a.Id);
        var c = After(NewJob(queue: "chain"), "missing-job");

        var duplicate = await Store.EnqueueAllOrNoneAsync([a, b], Ct);
        var missing = await Store.EnqueueAllOrNoneAsync([a, c], Ct);

        Assert.Equal((false, 1, EnqueueOutcome.DuplicateId), (duplicate.AllStored, duplicate.RefusedIndex, duplicate.Refusal!.Outcome));
        Assert.Equal((false, 1, EnqueueOutcome.DependencyNotFound), (missing.AllStored, missing.RefusedIndex, missing.Refusal!.Outcome));
        Assert.Null(await Store.GetAsync(DefaultTenant, a.Id, Ct));
        Assert.Null(await Store.GetAsync(DefaultTenant, c.Id, Ct));
        await AssertNothingToDequeueAsync("chain");
    }
}
