using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Conveyor.Diagnostics;
using Conveyor.Handlers;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Conveyor.Tests.Handlers;

/// <summary>
/// A handler that starts several waits at once (signal waits and durable sleeps, some not awaited): the job parks until
/// the earliest of what it waits for, resumed by any of its signals.
/// </summary>
public sealed class WaitsTogetherTests
{
    private sealed record Approval(string By);

    private static async Task<JobInfo> WaitForAsync(ServerHarness harness, string jobId, Func<JobInfo, bool> condition, TimeSpan? timeout = null)
    {
        JobInfo? job = null;
        await Eventually.HoldsAsync(async () => (job = await harness.Client.GetJobAsync(jobId, TenantId.Default)) is { } j && condition(j), timeout);
        return job!;
    }

    private static readonly TimeSpan Sleep = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task ASleepBesideAnUnawaitedSignalWait_ParksTheJobUntilTheSleepsTime_AndTheSignalStillResumesIt()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:remind", async (context, cancellationToken) =>
        {
            log.Enqueue("start");
            var approval = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken).AsTask();
            await context.SleepAsync("remind", Sleep);
            log.Enqueue("reminded");
            log.Enqueue("approved by " + (await approval)?.By);
        }));
        var job = await harness.Client.EnqueueAsync("test:remind", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        Assert.InRange(parked.ScheduledAt!.Value - parked.CreatedAt, TimeSpan.Zero, Sleep + TimeSpan.FromSeconds(2));
        Assert.StartsWith("Waiting for signal 'approved' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Contains(" Sleeping until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal(JobSignalResult.Resumed, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None));

        // Resumed, the handler has its signal and sleeps on until the sleep's time, then goes on.
        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished(), Sleep + TimeSpan.FromSeconds(10));
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start", "start", "start", "reminded", "approved by ada"], log);
    }

    [Fact]
    public async Task ASleepThatEndsBeforeThePark_RunsTheJobAgain_AndTheSignalWaitBesideItGoesOn()
    {
        // The sleep's time passes before the park reaches the store: that time is not the wait's deadline, so the wait has
        // not timed out, and the signal still gets through.
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(store: SlowParkStore.Wrap(new InMemoryJobStore(TimeProvider.System)), configureConveyor: c => c.AddHandler("test:remind", async (context, cancellationToken) =>
        {
            log.Enqueue("start");
            var approval = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken).AsTask();
            await context.SleepAsync("remind", TimeSpan.FromMilliseconds(300));
            log.Enqueue("reminded");
            log.Enqueue((await approval)?.By ?? "timed out");
        }));
        var job = await harness.Client.EnqueueAsync("test:remind", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished() || (j.State == JobState.Scheduled && !j.SnoozeReason!.Contains("Sleeping", StringComparison.Ordinal)));
        Assert.StartsWith("Waiting for signal 'approved' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal(JobSignalResult.Resumed, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None));

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(["start", "start", "reminded", "start", "reminded", "ada"], log);
    }

    [Fact]
    public async Task ASleepStillWritingItsTime_WhenTheHandlerEndsOnASignalWait_EndsThePark()
    {
        // A remote store answers the sleep's write after the signal wait has ended the attempt.
        var (store, held) = HeldStepStore.Wrap(new InMemoryJobStore(TimeProvider.System), DeadlineSteps.SleepStepName("remind"));
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = await ServerHarness.StartAsync(store: store, configureConveyor: c => c.AddHandler("test:remind", async (context, cancellationToken) =>
        {
            var remind = context.SleepAsync("remind", Sleep).AsTask();
            try
            {
                await context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken);
            }
            finally
            {
                ended.TrySetResult();
            }

            await remind;
        }));
        var job = await harness.Client.EnqueueAsync("test:remind", "{}"u8.ToArray());
        await ended.Task.WaitAsync(TimeSpan.FromSeconds(30));
        held.Release();

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        Assert.InRange(parked.ScheduledAt!.Value - parked.CreatedAt, TimeSpan.Zero, Sleep + TimeSpan.FromSeconds(2));
        Assert.StartsWith("Waiting for signal 'approved' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Contains(" Sleeping until ", parked.SnoozeReason, StringComparison.Ordinal);
    }

    private static Func<JobContext, CancellationToken, Task> ApproveOrRejectWithAReminder(TaskCompletionSource? ended = null) => async (context, cancellationToken) =>
    {
        var approved = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(2), cancellationToken).AsTask();
        var rejected = context.WaitForSignalAsync<Approval>("rejected", TimeSpan.FromHours(2), cancellationToken).AsTask();
        var remind = context.SleepAsync("remind", TimeSpan.FromHours(1)).AsTask();
        try
        {
            // The handler looks only at the wait it ends on: the others may still be writing their deadlines.
            await approved;
        }
        finally
        {
            ended?.TrySetResult();
        }
    };

    private static async Task AssertRetriedThenParkedForEverythingAsync(ServerHarness harness, string jobId, string error)
    {
        var parked = await WaitForAsync(harness, jobId, j => j.State.IsFinished() || (j.State == JobState.Scheduled && j.SnoozeReason?.StartsWith("Waiting", StringComparison.Ordinal) == true));
        Assert.StartsWith("Waiting for signals 'approved', 'rejected' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Contains(" Sleeping until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.InRange(parked.ScheduledAt!.Value - parked.CreatedAt, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Equal(1, parked.Attempts);
        Assert.Contains(error, Assert.Single(parked.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$wait:rejected")]
    [InlineData("$sleep:remind")]
    public async Task AWaitThatFailed_BesideOneThatSuspended_FailsTheAttempt_AndTheRetryParksForEveryWait(string failing)
    {
        var (store, _) = FailingStepStore.Wrap(new InMemoryJobStore(TimeProvider.System), failing);
        await using var harness = await ServerHarness.StartAsync(store: store, start: false, configureConveyor: c => c.AddHandler("test:decision", ApproveOrRejectWithAReminder()));
        using var processed = new MetricCollector<long>(harness.Services.GetRequiredService<IMeterFactory>(), ConveyorMetrics.MeterName, "job_processed_total");
        await harness.StartHostAsync();
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray());

        await AssertRetriedThenParkedForEverythingAsync(harness, job.JobId, "the test store is down");
        // Counted as the failure it is, not as a wait.
        Assert.Equal(["failed", "snoozed"], processed.GetMeasurementSnapshot().Where(m => m.Value > 0).Select(m => (string)m.Tags["status"]!).Order());
    }

    [Fact]
    public async Task AWaitThatFailsAfterTheHandlerEnded_FailsTheAttempt_AndTheRetryParksForEveryWait()
    {
        var (store, control) = FailingStepStore.Wrap(new InMemoryJobStore(TimeProvider.System), "$wait:rejected", held: true);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = await ServerHarness.StartAsync(store: store, configureConveyor: c => c.AddHandler("test:decision", ApproveOrRejectWithAReminder(ended)));
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray());
        await ended.Task.WaitAsync(TimeSpan.FromSeconds(30));

        control.Release();

        await AssertRetriedThenParkedForEverythingAsync(harness, job.JobId, "the test store is down");
    }

    [Fact]
    public async Task AWaitTheStoreNeverAnswers_FailsTheAttemptAfterTheBound_AndTheRetryParksForEveryWait()
    {
        var (store, held) = HeldStepStore.Wrap(new InMemoryJobStore(TimeProvider.System), "$wait:rejected");
        // A lease longer than the wait's bound: the harness's 3 s lease, not extended in time on a loaded machine, was
        // recovered before the bound ended the attempt (once in CI).
        await using var harness = await ServerHarness.StartAsync(o => o.LeaseDuration = TimeSpan.FromSeconds(30), store: store,
            configureConveyor: c => c.AddHandler("test:decision", ApproveOrRejectWithAReminder()));
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray());
        await WaitForAsync(harness, job.JobId, j => j.Errors.Count > 0, JobContext.WaitsBound + TimeSpan.FromSeconds(10));

        held.Release();

        await AssertRetriedThenParkedForEverythingAsync(harness, job.JobId, "did not store its deadline within 5 s");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AHandlerThatReturns_WhileASleepItDidNotAwaitIsPending_Succeeds_AndDoesNotRunAgain(bool whenAny)
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:remind", async (context, cancellationToken) =>
        {
            var remind = context.SleepAsync("remind", TimeSpan.FromHours(1)).AsTask();
            var approval = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(2), cancellationToken).AsTask();
            if (whenAny)
            {
                // The sleep ends first (it suspends at once), then the wait returns its signal.
                await Task.WhenAny(remind, approval);
            }

            log.Enqueue("approved by " + (await approval)?.By);
        }));
        var job = await harness.Client.EnqueueAsync("test:remind", "{}"u8.ToArray());
        await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);

        Assert.Equal(JobSignalResult.Resumed, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None));

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished() || (j.State == JobState.Scheduled && j.SnoozeReason?.StartsWith("Sleeping", StringComparison.Ordinal) == true));
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["approved by ada"], log);
    }

    [Fact]
    public async Task AParkThatEndsAtAShortSleepsTime_RunsTheJobAgainThen_NotAtThePromotersNextTick()
    {
        var starts = 0;
        await using var harness = await ServerHarness.StartAsync(configureServer: o => o.PromoteInterval = TimeSpan.FromMinutes(10), configureConveyor: c => c.AddHandler("test:remind", async (context, cancellationToken) =>
        {
            Interlocked.Increment(ref starts);
            var approval = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken).AsTask();
            await context.SleepAsync("remind", TimeSpan.FromSeconds(1));
            await approval;
        }));
        var job = await harness.Client.EnqueueAsync("test:remind", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled && j.SnoozeReason?.Contains(" Sleeping until ", StringComparison.Ordinal) == true);

        // The promoter's next tick is ten minutes away: the server promotes the job at the sleep's time.
        await Eventually.HoldsAsync(() => Volatile.Read(ref starts) >= 2, TimeSpan.FromSeconds(10), because: "the park ends at the sleep's time, a second later");
        Assert.True(parked.ScheduledAt!.Value - parked.CreatedAt < TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaitThatHearsOfACancelRequest_EndsTheJobCancelled_OnItsLastAttempt(bool besideOneThatSuspends)
    {
        await using var harness = await ServerHarness.StartAsync(store: DecidedStore.AnsweringWaits(new InMemoryJobStore(TimeProvider.System), JobSignalWaitOutcome.CancelRequested), configureConveyor: c => c.AddHandler("test:decision", async (context, cancellationToken) =>
        {
            // Its deadline has passed at once: the store decides it, and answers that the job's cancellation was requested.
            var due = context.WaitForSignalAsync("due", TimeSpan.Zero, cancellationToken).AsTask();
            if (besideOneThatSuspends)
            {
                await context.WaitForSignalAsync("approved", TimeSpan.FromHours(1), cancellationToken);
            }

            await due;
        }));
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0 });

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal(JobState.Cancelled, done.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaitAnsweredThatTheLeaseIsLost_EndsTheAttemptAsALostLease_RecordingNothing(bool besideOneThatSuspends)
    {
        await AttemptEndsAsALostLeaseAsync(DecidedStore.AnsweringWaits(new InMemoryJobStore(TimeProvider.System), JobSignalWaitOutcome.LeaseLost), async (context, cancellationToken) =>
        {
            // Its deadline has passed at once: the store decides it, and answers that this attempt no longer holds the job.
            var due = context.WaitForSignalAsync("due", TimeSpan.Zero, cancellationToken).AsTask();
            if (besideOneThatSuspends)
            {
                await context.WaitForSignalAsync("approved", TimeSpan.FromHours(1), cancellationToken);
            }

            await due;
        });
    }

    [Fact]
    public async Task AStepTheStoreRefusesForALostLease_EndsTheAttemptAsALostLease_RecordingNothing()
    {
        await AttemptEndsAsALostLeaseAsync(DecidedStore.LosingTheLeaseOnSteps(new InMemoryJobStore(TimeProvider.System)), async (context, _) =>
            await context.RunStepAsync("charge", _ => ValueTask.CompletedTask));
    }

    /// <summary>
    /// Another attempt may hold the job: the one whose store call said so records nothing (not a failure on its last
    /// attempt), as any attempt whose lease was lost, and its line says so.
    /// </summary>
    private static async Task AttemptEndsAsALostLeaseAsync(IJobStore store, Func<JobContext, CancellationToken, Task> handler)
    {
        var logs = new FakeLogCollector();
        await using var harness = await ServerHarness.StartAsync(
            store: store,
            configureServices: s => s.AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs)),
            configureConveyor: c => c.AddHandler("test:decision", handler));
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0 });

        await Eventually.HoldsAsync(() => logs.GetSnapshot().Any(r => r.Id.Id == 12 && r.Message.Contains(job.JobId, StringComparison.Ordinal)));
        var after = await harness.Client.GetJobAsync(job.JobId, TenantId.Default);
        Assert.Empty(after!.Errors);
        Assert.False(after.State.IsFinished(), $"the job is {after.State}");
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task TwoSleepsStartedTogether_ParkTheJobUntilTheEarlier()
    {
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:sleeps", async (context, _) =>
        {
            var early = context.SleepAsync("early", Sleep).AsTask();
            var late = context.SleepAsync("late", TimeSpan.FromHours(1)).AsTask();
            await await Task.WhenAny(early, late);
        }));
        var job = await harness.Client.EnqueueAsync("test:sleeps", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        Assert.InRange(parked.ScheduledAt!.Value - parked.CreatedAt, TimeSpan.Zero, Sleep + TimeSpan.FromSeconds(2));
    }
}
