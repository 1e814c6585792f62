using System.Text;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// Signals: a handler's wait parks its job (no attempt counted, no lease held) unless the signal is already on the job,
/// a delivery resumes a job parked for it at once, and the first decision of a wait (the signal or its timeout) is the
/// only one, whatever races it.
/// </summary>
public abstract partial class SignalTests : JobStoreTestBase
{
    private const string Name = "approved";

    private static readonly byte[] Approval = """{"by":"ada"}"""u8.ToArray();

    /// <summary>Leases a new job and records its wait's deadline as the handler does before it parks.</summary>
    private async Task<LeasedJob> RunUntilWaitAsync(DateTimeOffset until, NewJob? job = null)
    {
        var id = await EnqueueAsync(job);
        var leased = await DequeueOneAsync(job?.Queue ?? DefaultQueue);
        Assert.Equal(id, leased.Id);
        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, new JobStep(JobSignal.WaitStepName(Name), leased.Attempt, Conveyor.Handlers.DeadlineSteps.Write(until), Now), Ct));
        return leased;
    }

    private ValueTask<JobSignalWait> AwaitAsync(LeasedJob leased, DateTimeOffset until, long? leaseToken = null) =>
        Store.AwaitSignalAsync(leased.Id, leaseToken ?? leased.LeaseToken, [Name], until, recordTimeout: true, JobSignal.WaitReason(Name, until), Ct);

    private ValueTask<JobSignalResult> SignalAsync(string id, byte[]? payload = null, string tenant = DefaultTenant, string name = Name) =>
        Store.SignalAsync(tenant, id, name, payload ?? Approval, Ct);

    [Fact]
    public async Task AwaitSignal_NoSignal_ParksTheJobUntilTheDeadline_WithoutCountingTheAttempt()
    {
        var until = Now.AddHours(2);
        var leased = await RunUntilWaitAsync(until);

        var wait = await AwaitAsync(leased, until);

        Assert.Equal(JobSignalWaitOutcome.Parked, wait.Outcome);
        var job = await GetAsync(leased.Id);
        Assert.Equal((JobState.Scheduled, 0, until), (job.State, job.Attempts, job.ScheduledAt));
        Assert.Equal("Waiting for signal 'approved' until 2026-01-01T02:00:00Z.", job.SnoozeReason);
        await AssertNothingToDequeueAsync();
        Assert.False(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
    }

    [Fact]
    public async Task AwaitSignal_ParkedOnItsFirstAttempt_HasNoStartedAt()
    {
        // A park is a snooze: the attempt does not count, and the start of a lease that does not count is not kept.
        var until = Now.AddHours(2);
        var leased = await RunUntilWaitAsync(until);

        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);

        var job = await GetAsync(leased.Id);
        Assert.Equal(0, job.Attempts);
        Assert.Null(job.StartedAt);
    }

    [Fact]
    public async Task Signal_ToAJobParkedForIt_ResumesItAtOnce_AndTheNextAttemptGetsThePayload()
    {
        var until = Now.AddHours(2);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);
        Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id));

        await AssertStateAsync(leased.Id, JobState.Pending);
        var again = await DequeueOneAsync();
        Assert.Equal((leased.Id, 1), (again.Id, again.Attempt));
        var wait = await AwaitAsync(again, until);
        Assert.Equal(JobSignalWaitOutcome.Delivered, wait.Outcome);
        Assert.Equal(Approval, wait.Payload.ToArray());
        var step = Assert.Single((await Store.GetStepsAsync(DefaultTenant, leased.Id, Ct))!, s => s.Name == JobSignal.StepName(Name));
        Assert.Equal((0, Now), (step.Attempt, step.CompletedAt));
        Assert.Equal(Approval, step.Result.ToArray());
        await AssertStateAsync(leased.Id, JobState.Active);
    }

    [Fact]
    public async Task Signal_ToAJobParkedForIt_ClearsTheWaitReason()
    {
        // The job waits no longer: a reason saying it does would stay on it while it runs, until that attempt ends.
        var until = Now.AddHours(2);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);
        Assert.Equal(JobSignal.WaitReason(Name, until), (await GetAsync(leased.Id)).SnoozeReason);

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Null(job.SnoozeReason);
        await DequeueOneAsync();
        Assert.Null((await GetAsync(leased.Id)).SnoozeReason);
    }

    [Fact]
    public async Task Signal_BeforeTheJobReachesItsWait_IsKept_AndTheWaitReturnsItWithoutParking()
    {
        var pending = await EnqueueAsync();
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(pending));
        await AssertStateAsync(pending, JobState.Pending);
        var leased = await DequeueOneAsync();

        var wait = await AwaitAsync(leased, Now.AddHours(1));

        Assert.Equal(JobSignalWaitOutcome.Delivered, wait.Outcome);
        Assert.Equal(Approval, wait.Payload.ToArray());
        await AssertStateAsync(pending, JobState.Active);
    }

    [Fact]
    public async Task Signal_WhileTheAttemptRuns_IsNotLost_WhenTheAttemptThenWaits()
    {
        // The race the atomic wait closes: the handler read the job's steps before the signal came.
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id));

        var wait = await AwaitAsync(leased, until);

        Assert.Equal(JobSignalWaitOutcome.Delivered, wait.Outcome);
        await AssertStateAsync(leased.Id, JobState.Active);
    }

    [Fact]
    public async Task AwaitAndSignal_Racing_NeverLeaveASignalledJobParked()
    {
        // Each pair runs at once: whichever the store applies first, the job either parks and is resumed by the
        // delivery, or finds the signal and stays active; never parked with its signal stored (a lost wake-up).
        const int Jobs = 20;
        var until = Now.AddHours(1);
        var leased = new List<LeasedJob>();
        for (var i = 0; i < Jobs; i++)
        {
            leased.Add(await RunUntilWaitAsync(until));
        }

        var outcomes = await Task.WhenAll(leased.Select(async job =>
        {
            var wait = Task.Run(async () => await AwaitAsync(job, until));
            var signal = Task.Run(async () => await SignalAsync(job.Id));
            return (Wait: (await wait).Outcome, Signal: await signal);
        }));

        for (var i = 0; i < Jobs; i++)
        {
            var state = (await GetAsync(leased[i].Id)).State;
            Assert.True(
                outcomes[i] is (JobSignalWaitOutcome.Parked, JobSignalResult.Resumed) or (JobSignalWaitOutcome.Delivered, JobSignalResult.Delivered),
                $"job {i}: wait {outcomes[i].Wait}, signal {outcomes[i].Signal}, state {state}");
            Assert.Equal(outcomes[i].Wait == JobSignalWaitOutcome.Parked ? JobState.Pending : JobState.Active, state);
        }
    }

    [Fact]
    public async Task AwaitSignal_DeadlinePassed_TimesOutOnce_AndALaterSignalIsRefused()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));
        var again = await DequeueOneAsync();

        Assert.Equal(JobSignalWaitOutcome.TimedOut, (await AwaitAsync(again, until)).Outcome);

        await AssertStateAsync(leased.Id, JobState.Active);
        Assert.Equal(JobSignalResult.WaitTimedOut, await SignalAsync(leased.Id));
        Assert.Equal(JobSignalWaitOutcome.TimedOut, (await AwaitAsync(again, until)).Outcome);
    }

    [Fact]
    public async Task Signal_AfterTheWaitsDeadline_BeforeAWorkerRecordedTheTimeout_RecordsIt_AndIsRefused()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(JobSignalResult.WaitTimedOut, await SignalAsync(leased.Id));

        Assert.Equal(JobSignalResult.WaitTimedOut, await SignalAsync(leased.Id));
        var signal = Assert.Single((await Store.GetStepsAsync(DefaultTenant, leased.Id, Ct))!, s => s.Name == JobSignal.StepName(Name));
        Assert.True(signal.Result.IsEmpty);
        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));
        var again = await DequeueOneAsync();
        Assert.Equal(JobSignalWaitOutcome.TimedOut, (await AwaitAsync(again, until)).Outcome);
    }

    [Fact]
    public async Task Signal_JustBeforeTheWaitsDeadline_ResumesTheJob()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);
        Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromMilliseconds(1));

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id));

        var again = await DequeueOneAsync();
        Assert.Equal(JobSignalWaitOutcome.Delivered, (await AwaitAsync(again, until)).Outcome);
    }

    [Fact]
    public async Task Signal_ToAJobParkedPastItsDeadline_IsRefused_StoresNothing_AndLeavesItParked()
    {
        // The processor parks a wait that outlives the job's deadline until the deadline only; the job then fails at
        // the start of its next attempt without reading its steps, so a signal accepted now would never be seen.
        var deadline = Now.AddMinutes(30);
        var leased = await RunUntilWaitAsync(Now.AddHours(1), NewJob(deadline: deadline));
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, deadline)).Outcome);
        Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal(JobSignalResult.DeadlinePassed, await SignalAsync(leased.Id));

        Assert.DoesNotContain((await Store.GetStepsAsync(DefaultTenant, leased.Id, Ct))!, s => s.Name == JobSignal.StepName(Name));
        await AssertStateAsync(leased.Id, JobState.Scheduled);
        Assert.Equal(JobSignalResult.DeadlinePassed, await SignalAsync(leased.Id));
    }

    [Fact]
    public async Task Signal_ToAJobParkedJustBeforeItsDeadline_ResumesIt()
    {
        var deadline = Now.AddMinutes(30);
        var leased = await RunUntilWaitAsync(Now.AddHours(1), NewJob(deadline: deadline));
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, deadline)).Outcome);
        Time.Advance(TimeSpan.FromMinutes(30) - TimeSpan.FromMilliseconds(1));

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id));

        await AssertStateAsync(leased.Id, JobState.Pending);
    }

    [Fact]
    public async Task Signal_ToAPendingJobPastItsDeadline_IsRefused_AndStoresNothing()
    {
        var id = await EnqueueAsync(NewJob(deadline: Now.AddMinutes(1)));
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(JobSignalResult.DeadlinePassed, await SignalAsync(id));

        Assert.Empty((await Store.GetStepsAsync(DefaultTenant, id, Ct))!);
        await AssertStateAsync(id, JobState.Pending);
    }

    [Fact]
    public async Task Signal_TheSameNameTwice_KeepsTheFirst()
    {
        var id = await EnqueueAsync();
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(id, "1"u8.ToArray()));

        Assert.Equal(JobSignalResult.AlreadyDelivered, await SignalAsync(id, "2"u8.ToArray()));

        var leased = await DequeueOneAsync();
        Assert.Equal("1", Encoding.UTF8.GetString((await AwaitAsync(leased, Now.AddHours(1))).Payload.Span));
    }

    [Fact]
    public async Task Signal_AnotherName_IsKeptWithoutResumingTheParkedJob()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);

        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id, name: "shipped"));

        var job = await GetAsync(leased.Id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(JobSignal.WaitReason(Name, until), job.SnoozeReason);
    }

    [Fact]
    public async Task Signal_ToAJobSnoozedForAnotherReason_WhoseEarlierWaitForItNeverParked_IsKeptWithoutResumingIt()
    {
        // The attempt that fixed the wait's deadline lost its lease before it could park (its worker died, or the store
        // was out of reach then), and the next one was held back by a rate limit: the wait step is on the job, but the
        // job is not parked for the signal, and resuming it would cut its snooze short.
        const string Held = "Rate limit 'partner-api' is full; waiting for a permit.";
        var until = Now.AddHours(2);
        var first = await RunUntilWaitAsync(until);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Single(await Store.RecoverExpiredLeasesAsync(10, Ct));
        var second = await DequeueOneAsync();
        var snoozedUntil = Now.AddMinutes(10);
        Assert.True(await AckAsync(Ack(second, AckOutcome.Snoozed) with { SnoozeUntil = snoozedUntil, SnoozeReason = Held }));

        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(first.Id));

        var job = await GetAsync(first.Id);
        Assert.Equal((JobState.Scheduled, snoozedUntil, Held), (job.State, job.ScheduledAt, job.SnoozeReason));
        await AssertNothingToDequeueAsync();
        Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));
        var third = await DequeueOneAsync();
        var wait = await AwaitAsync(third, until);
        Assert.Equal(JobSignalWaitOutcome.Delivered, wait.Outcome);
        Assert.Equal(Approval, wait.Payload.ToArray());
    }

    [Fact]
    public async Task Signal_ToAJobParkedForAnotherSignal_WhoseEarlierWaitForItWasRequeued_IsKeptWithoutResumingIt()
    {
        // An operator ran the parked job at once (a requeue), and that attempt went on to wait for another signal.
        const string Other = "shipped";
        var until = Now.AddHours(2);
        var first = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(first, until)).Outcome);
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, first.Id, Ct));
        var second = await DequeueOneAsync();
        var otherUntil = Now.AddHours(1);
        Assert.True(await Store.SaveStepAsync(second.Id, second.LeaseToken, new JobStep(JobSignal.WaitStepName(Other), second.Attempt, Conveyor.Handlers.DeadlineSteps.Write(otherUntil), Now), Ct));
        var parked = await Store.AwaitSignalAsync(second.Id, second.LeaseToken, [Other], otherUntil, recordTimeout: true, JobSignal.WaitReason(Other, otherUntil), Ct);
        Assert.Equal(JobSignalWaitOutcome.Parked, parked.Outcome);

        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(first.Id));

        var job = await GetAsync(first.Id);
        Assert.Equal((JobState.Scheduled, otherUntil, JobSignal.WaitReason(Other, otherUntil)), (job.State, job.ScheduledAt, job.SnoozeReason));
        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(first.Id, name: Other));
    }

    /// <summary>Parks a new job as a handler waiting for any of <paramref name="names"/> (Task.WhenAny) does: a wait step for each.</summary>
    private async Task<LeasedJob> ParkForAnyAsync(DateTimeOffset until, string reason, params string[] names)
    {
        var leased = await RunUntilWaitAsync(until);
        foreach (var name in names.Where(n => n != Name))
        {
            Assert.True(await Store.SaveStepAsync(leased.Id, leased.LeaseToken, new JobStep(JobSignal.WaitStepName(name), leased.Attempt, Conveyor.Handlers.DeadlineSteps.Write(until), Now), Ct));
        }

        Assert.Equal(JobSignalWaitOutcome.Parked, (await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, names, until, recordTimeout: false, reason, Ct)).Outcome);
        return leased;
    }

    [Theory]
    [InlineData(Name)]
    [InlineData("rejected")]
    public async Task Signal_ToAJobParkedForEitherOfTwoSignals_ResumesIt_WhicheverComes(string name)
    {
        var until = Now.AddHours(2);
        var reason = JobSignal.WaitReason([Name, "rejected"], until);
        Assert.Equal("Waiting for signals 'approved', 'rejected' until 2026-01-01T02:00:00Z.", reason);
        var leased = await ParkForAnyAsync(until, reason, Name, "rejected", "shipped");

        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id, name: "shipped"));
        var job = await GetAsync(leased.Id);
        Assert.Equal((JobState.Scheduled, until, reason), (job.State, job.ScheduledAt, job.SnoozeReason));

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id, name: name));
        job = await GetAsync(leased.Id);
        Assert.Equal((JobState.Pending, null), (job.State, job.SnoozeReason));
    }

    [Theory]
    [InlineData(Name, "rejected")]
    [InlineData("rejected", Name)]
    public async Task AwaitSignal_ForSeveralNames_FindsASignalOfAnyOfThem_DeliveredWhileTheAttemptRan(string first, string second)
    {
        // The lost wake-up a park checking one name would leave: the handler read the job's steps, a signal for one of its
        // waits came, and the park, not seeing it, slept until the earliest deadline with the signal stored.
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.True(await Store.SaveStepAsync(leased.Id, leased.LeaseToken, new JobStep(JobSignal.WaitStepName("rejected"), leased.Attempt, Conveyor.Handlers.DeadlineSteps.Write(until), Now), Ct));
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id));

        string[] names = [first, second];
        var wait = await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, names, until, recordTimeout: false, JobSignal.WaitReason(names, until), Ct);

        Assert.Equal(JobSignalWaitOutcome.Delivered, wait.Outcome);
        Assert.Equal(Approval, wait.Payload.ToArray());
        await AssertStateAsync(leased.Id, JobState.Active);
    }

    [Fact]
    public async Task AwaitSignal_ForSeveralNames_NoneDelivered_ParksTheJob_AndASignalOfTheFirstResumesIt()
    {
        var until = Now.AddHours(1);
        var reason = JobSignal.WaitReason([Name, "rejected"], until);
        var leased = await RunUntilWaitAsync(until);
        Assert.True(await Store.SaveStepAsync(leased.Id, leased.LeaseToken, new JobStep(JobSignal.WaitStepName("rejected"), leased.Attempt, Conveyor.Handlers.DeadlineSteps.Write(until), Now), Ct));

        var wait = await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, [Name, "rejected"], until, recordTimeout: false, reason, Ct);

        Assert.Equal(JobSignalWaitOutcome.Parked, wait.Outcome);
        var job = await GetAsync(leased.Id);
        Assert.Equal((JobState.Scheduled, 0, until, reason), (job.State, job.Attempts, job.ScheduledAt, job.SnoozeReason));
        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id));
        await AssertStateAsync(leased.Id, JobState.Pending);
    }

    [Fact]
    public async Task AwaitSignal_ForSeveralNames_PastTheEarliestDeadline_TimesOut_WithoutRecordingATimeoutForAnyOfThem()
    {
        // The earliest of several deadlines is not the last name's: recording its timeout would end that wait early.
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.True(await Store.SaveStepAsync(leased.Id, leased.LeaseToken, new JobStep(JobSignal.WaitStepName("rejected"), leased.Attempt, Conveyor.Handlers.DeadlineSteps.Write(until.AddHours(1)), Now), Ct));
        Time.Advance(TimeSpan.FromHours(1));

        string[] names = [Name, "rejected"];
        var wait = await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, names, until, recordTimeout: false, JobSignal.WaitReason(names, until), Ct);

        Assert.Equal(JobSignalWaitOutcome.TimedOut, wait.Outcome);
        await AssertStateAsync(leased.Id, JobState.Active);
        Assert.DoesNotContain((await Store.GetStepsAsync(DefaultTenant, leased.Id, Ct))!, s => s.Name.StartsWith("$signal:", StringComparison.Ordinal));
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id, name: "rejected"));
    }

    [Fact]
    public async Task AwaitSignal_PastATimeThatIsNotTheWaitsDeadline_TimesOut_WithoutRecordingATimeout()
    {
        // A sleep the handler started beside the wait ended the park an hour before the wait's deadline: the wait goes on.
        var deadline = Now.AddHours(2);
        var leased = await RunUntilWaitAsync(deadline);
        var wakeUp = Now.AddHours(1);
        Time.Advance(TimeSpan.FromHours(1));

        var wait = await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, [Name], wakeUp, recordTimeout: false, JobSignal.WaitReason(Name, deadline), Ct);

        Assert.Equal(JobSignalWaitOutcome.TimedOut, wait.Outcome);
        await AssertStateAsync(leased.Id, JobState.Active);
        Assert.DoesNotContain((await Store.GetStepsAsync(DefaultTenant, leased.Id, Ct))!, s => s.Name == JobSignal.StepName(Name));
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id));
    }

    [Fact]
    public async Task AwaitSignal_WithoutANameOrWithABadOne_OrRecordingATimeoutOfSeveral_IsRefused()
    {
        var leased = await RunUntilWaitAsync(Now.AddHours(1));

        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, [], Now.AddHours(1), recordTimeout: false, "r", Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, [Name, "has space"], Now.AddHours(1), recordTimeout: false, "r", Ct));
        // A timeout to record would be no one wait's of several.
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.AwaitSignalAsync(leased.Id, leased.LeaseToken, [Name, "rejected"], Now.AddHours(1), recordTimeout: true, "r", Ct));

        await AssertStateAsync(leased.Id, JobState.Active);
    }

    [Fact]
    public async Task Signal_WhoseNameIsPartOfAnotherNameInTheParksReason_IsKeptWithoutResumingIt()
    {
        var until = Now.AddHours(2);
        var reason = JobSignal.WaitReason(["approved-2", "pre-approved", "approved.x"], until);
        var leased = await ParkForAnyAsync(until, reason, Name, "approved-2", "pre-approved", "approved.x");

        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id));

        var job = await GetAsync(leased.Id);
        Assert.Equal((JobState.Scheduled, until, reason), (job.State, job.ScheduledAt, job.SnoozeReason));
    }

    [Fact]
    public async Task Signal_ToAJobParkedWithTheSingleSignalReasonOfEarlierVersions_ResumesIt()
    {
        var until = Now.AddHours(2);
        var leased = await ParkForAnyAsync(until, "Waiting for signal 'approved' until 2026-01-01T02:00:00Z.", Name);

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(leased.Id));

        await AssertStateAsync(leased.Id, JobState.Pending);
    }

    [Fact]
    public async Task Signal_ToAJobParkedAgainForIt_AfterARequeue_ResumesIt()
    {
        // The wait step is the first attempt's; the park is the current one's, and it is for this signal.
        var until = Now.AddHours(2);
        var first = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(first, until)).Outcome);
        Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, first.Id, Ct));
        var second = await DequeueOneAsync();
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(second, until)).Outcome);

        Assert.Equal(JobSignalResult.Resumed, await SignalAsync(first.Id));

        await AssertStateAsync(first.Id, JobState.Pending);
    }

    [Theory]
    [MemberData(nameof(FinishedStates))]
    public async Task Signal_ToAFinishedJob_IsRefused_AndStoresNothing(JobState state)
    {
        var id = await CreateJobInStateAsync(state);

        Assert.Equal(JobSignalResult.Finished, await SignalAsync(id));

        Assert.DoesNotContain((await Store.GetStepsAsync(DefaultTenant, id, Ct))!, s => s.Name == JobSignal.StepName(Name));
    }

    [Fact]
    public async Task Signal_ToAnUnknownJobOrAnotherTenantsJob_IsNotFound_AndStoresNothing()
    {
        var id = await EnqueueAsync(NewJob(tenant: "tenant-a"));

        Assert.Equal(JobSignalResult.NotFound, await SignalAsync(id, tenant: "tenant-b"));
        Assert.Equal(JobSignalResult.NotFound, await SignalAsync(JobId.New()));

        Assert.Empty((await Store.GetStepsAsync("tenant-a", id, Ct))!);
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(id, tenant: "tenant-a"));
    }

    [Fact]
    public async Task AwaitSignal_WithoutTheLease_IsLeaseLost_AndChangesNothing()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);

        Assert.Equal(JobSignalWaitOutcome.LeaseLost, (await AwaitAsync(leased, until, leased.LeaseToken + 1)).Outcome);
        Assert.Equal(JobSignalWaitOutcome.LeaseLost, (await AwaitAsync(leased, Now, leased.LeaseToken + 1)).Outcome);

        await AssertStateAsync(leased.Id, JobState.Active);
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(leased.Id));
    }

    [Fact]
    public async Task AwaitSignal_CancelRequested_LeavesTheJobActiveForItsCancellation()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, leased.Id, Ct));

        Assert.Equal(JobSignalWaitOutcome.CancelRequested, (await AwaitAsync(leased, until)).Outcome);

        await AssertStateAsync(leased.Id, JobState.Active);
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Cancelled)));
        Assert.Equal(JobSignalResult.Finished, await SignalAsync(leased.Id));
    }

    [Fact]
    public async Task ParkedJob_CanBeCancelled_AndThenRefusesTheSignal()
    {
        var until = Now.AddHours(1);
        var leased = await RunUntilWaitAsync(until);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await AwaitAsync(leased, until)).Outcome);

        Assert.Equal(JobCommandResult.Done, await Store.CancelAsync(DefaultTenant, leased.Id, Ct));

        Assert.Equal(JobSignalResult.Finished, await SignalAsync(leased.Id));
        await AssertStateAsync(leased.Id, JobState.Cancelled);
    }

    [Fact]
    public async Task Signal_PayloadUpToTheLimit_RoundTrips_AndBadNamesOrPayloadsAreRefused()
    {
        var id = await EnqueueAsync();
        var largest = Bytes(JobSignal.MaxPayloadBytes);

        await Assert.ThrowsAsync<ArgumentException>(async () => await SignalAsync(id, name: "has space"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await SignalAsync(id, name: ""));
        await Assert.ThrowsAsync<ArgumentException>(async () => await SignalAsync(id, name: new string('a', JobSignal.MaxNameLength + 1)));
        await Assert.ThrowsAsync<ArgumentException>(async () => await SignalAsync(id, payload: []));
        await Assert.ThrowsAsync<ArgumentException>(async () => await SignalAsync(id, payload: new byte[JobSignal.MaxPayloadBytes + 1]));
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(id, largest));

        var leased = await DequeueOneAsync();
        Assert.Equal(largest, (await AwaitAsync(leased, Now.AddHours(1))).Payload.ToArray());
    }

    [Fact]
    public async Task Signals_GoWithTheJob_WhenItIsDeleted()
    {
        var id = await EnqueueAsync();
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(id));

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));

        Assert.Equal(JobSignalResult.NotFound, await SignalAsync(id));
        await EnqueueAsync(NewJob(id: id));
        Assert.Equal(JobSignalResult.Delivered, await SignalAsync(id));
    }
}
