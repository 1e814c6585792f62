using System.Collections.Concurrent;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Conveyor.Tests.Handlers;

/// <summary>
/// <see cref="JobContext.WaitForSignalAsync(string, TimeSpan, CancellationToken)"/> and the durable sleeps through a real
/// server: the attempt ends, the job is parked without an attempt counted, and the handler runs again with its finished
/// steps skipped when the signal comes or the time passes.
/// </summary>
public sealed class SignalWaitTests
{
    private sealed record Approval(string By);

    private static async Task<JobInfo> WaitForAsync(ServerHarness harness, string jobId, Func<JobInfo, bool> condition)
    {
        JobInfo? job = null;
        await Eventually.HoldsAsync(async () => (job = await harness.Client.GetJobAsync(jobId, TenantId.Default)) is { } j && condition(j));
        return job!;
    }

    private static Func<JobContext, CancellationToken, Task> ApprovalHandler(ConcurrentQueue<string> log, TimeSpan timeout) => async (context, cancellationToken) =>
    {
        log.Enqueue($"start@{context.Attempt}");
        await context.RunStepAsync("open", _ =>
        {
            log.Enqueue("open");
            return ValueTask.CompletedTask;
        });
        var approval = await context.WaitForSignalAsync<Approval>("approved", timeout, cancellationToken);
        log.Enqueue(approval is null ? "timed out" : "approved by " + approval.By);
    };

    [Fact]
    public async Task AWait_ParksTheJobWithoutCountingTheAttempt_AndTheSignalResumesItWithItsStepsSkipped()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:approval", ApprovalHandler(log, TimeSpan.FromHours(1))));
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        Assert.Equal(0, parked.Attempts);
        Assert.StartsWith("Waiting for signal 'approved' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal(JobSignalResult.Resumed, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None));

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start@1", "open", "start@1", "approved by ada"], log);
    }

    [Fact]
    public async Task AHandlerWaitingForEitherOfTwoSignals_IsParkedForBoth_AndResumedByTheFirst()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:decision", async (context, cancellationToken) =>
        {
            log.Enqueue($"start@{context.Attempt}");
            var approved = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken).AsTask();
            var rejected = context.WaitForSignalAsync<Approval>("rejected", TimeSpan.FromHours(2), cancellationToken).AsTask();
            var first = await Task.WhenAny(approved, rejected);
            var decision = await first;
            log.Enqueue((first == approved ? "approved by " : "rejected by ") + decision?.By);
        }));
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        Assert.StartsWith("Waiting for signals 'approved', 'rejected' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.InRange(parked.ScheduledAt!.Value - parked.CreatedAt, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Equal(JobSignalResult.Resumed, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None));

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start@1", "start@1", "approved by ada"], log);
    }

    [Fact]
    public async Task ASignalForOneOfTwoWaits_DeliveredWhileTheAttemptRuns_ResumesTheJobInsteadOfParkingIt()
    {
        var log = new ConcurrentQueue<string>();
        var store = new InMemoryJobStore(TimeProvider.System);
        var logs = new CapturingLoggerProvider();
        await using var harness = await ServerHarness.StartAsync(store: store, configureServices: s => s.AddLogging(b => b.AddProvider(logs)), configureConveyor: c => c.AddHandler("test:decision", async (context, cancellationToken) =>
        {
            log.Enqueue($"start@{context.Attempt}");
            var approved = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken).AsTask();
            var rejected = context.WaitForSignalAsync<Approval>("rejected", TimeSpan.FromHours(1), cancellationToken).AsTask();
            await ((Task)Task.WhenAll(approved, rejected)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (approved.IsCompletedSuccessfully)
            {
                log.Enqueue("approved by " + (await approved)?.By);
                return;
            }

            // Delivered after the waits read the job's steps, before the park: kept, the job still running (for 300 ms:
            // its queue wait for the next attempt starts when it goes back, not at its enqueue).
            await Task.Delay(300, CancellationToken.None);
            var answer = await store.SignalAsync(TenantId.Default, context.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None);
            log.Enqueue(answer.ToString());
            await rejected;
        }));
        using var queueWait = new MetricCollector<double>(harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_queue_wait_seconds");
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray());

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start@1", nameof(JobSignalResult.Delivered), "start@1", "approved by ada"], log);
        // Its handler ran (JobAcknowledgement.AttemptRan): the second attempt waited from the hand-back, not 300 ms more.
        var waits = queueWait.GetMeasurementSnapshot();
        Assert.Equal(2, waits.Count);
        Assert.True(waits[1].Value < 0.3, $"the second attempt waited {waits[1].Value} s");

        // Its first attempt's line says why it went back to its queue: no shutdown (event 51) happened.
        var first = Assert.Single(logs.Entries, e => (string?)e.OwnFields.GetValueOrDefault("job_id") == job.JobId && e.OwnFields.ContainsKey("signal"));
        Assert.Equal((124, "snoozed", "approved, rejected"), (first.EventId.Id, (string?)first.OwnFields["outcome"], (string?)first.OwnFields["signal"]));
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 51);
    }

    [Fact]
    public async Task AWaitStillWritingItsDeadline_WhenTheHandlerEndsOnAnother_IsOneTheParkWaitsForToo()
    {
        // A remote store answers the second wait's write after the first wait has ended the attempt (Task.WhenAny).
        var log = new ConcurrentQueue<string>();
        var (store, held) = HeldStepStore.Wrap(new InMemoryJobStore(TimeProvider.System), JobSignal.WaitStepName("rejected"));
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = await ServerHarness.StartAsync(
            store: store,
            configureConveyor: c => c.AddHandler("test:decision", async (context, cancellationToken) =>
            {
                var approved = context.WaitForSignalAsync<Approval>("approved", TimeSpan.FromHours(1), cancellationToken).AsTask();
                var rejected = context.WaitForSignalAsync<Approval>("rejected", TimeSpan.FromHours(1), cancellationToken).AsTask();
                await Task.WhenAny(approved, rejected);
                if (approved.IsCompletedSuccessfully || rejected.IsCompletedSuccessfully)
                {
                    log.Enqueue(approved.IsCompletedSuccessfully ? "approved by " + (await approved)?.By : "rejected by " + (await rejected)?.By);
                    return;
                }

                log.Enqueue("waits");
                try
                {
                    await approved;
                }
                finally
                {
                    ended.TrySetResult();
                }
            }));
        var job = await harness.Client.EnqueueAsync("test:decision", "{}"u8.ToArray());
        await ended.Task.WaitAsync(TimeSpan.FromSeconds(30));
        held.Release();

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        Assert.StartsWith("Waiting for signals 'approved', 'rejected' until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal(JobSignalResult.Resumed, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "rejected", """{"By":"bob"}"""u8.ToArray(), CancellationToken.None));

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(["waits", "rejected by bob"], log);
    }

    [Fact]
    public async Task AParkedAttempt_IsCountedAsSnoozed_NotAsReleased_AndItsResumedAttemptAsSuccess()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(start: false, configureConveyor: c => c.AddHandler("test:approval", ApprovalHandler(log, TimeSpan.FromHours(1))));
        var meterFactory = harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var processed = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "job_processed_total");
        await harness.StartHostAsync();
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray());
        await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);
        await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None);
        await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        var counted = processed.GetMeasurementSnapshot().Where(m => m.Value > 0 && (string?)m.Tags["task_type"] == "test:approval").Select(m => (string)m.Tags["status"]!).Order().ToArray();
        Assert.Equal(["snoozed", "success"], counted);
    }

    [Fact]
    public async Task TheWorkflowClientsSignal_ResumesAParkedJob_WithThePayloadAsJson()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:approval", ApprovalHandler(log, TimeSpan.FromHours(1))));
        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray());
        await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled);

        Assert.Equal(JobSignalResult.Resumed, await workflows.SignalAsync(job.JobId, "approved", new Approval("ada"), TenantId.Default));

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(["start@1", "open", "start@1", "approved by ada"], log);
    }

    [Fact]
    public async Task TheWorkflowClientsSignal_RefusesARawPayloadThatIsNotJson_AndStoresNothing()
    {
        await using var harness = await ServerHarness.StartAsync(start: false);
        await harness.Store.InitializeAsync(CancellationToken.None);
        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", "not json"u8.ToArray().AsMemory(), TenantId.Default));
        await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", "1 2"u8.ToArray(), TenantId.Default));
        await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", new byte[] { 0x22, 0xFF, 0x22 }.AsMemory(), TenantId.Default));
        await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", new byte[] { 0x22, 0xED, 0xA0, 0x80, 0x22 }.AsMemory(), TenantId.Default));
        var duplicate = await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", """{"by": {"x": 1, "x": 2}}"""u8.ToArray().AsMemory(), TenantId.Default));
        await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", """{"by": "\ud800"}"""u8.ToArray().AsMemory(), TenantId.Default));

        Assert.Contains("signal 'approved' is not JSON", error.Message, StringComparison.Ordinal);
        // A name given twice is JSON, read either way: named by its path, as the HTTP API names it.
        Assert.StartsWith("The payload of signal 'approved' names payload.by.x more than once", duplicate.Message, StringComparison.Ordinal);
        Assert.Empty((await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None))!);
        Assert.Equal(JobSignalResult.Delivered, await workflows.SignalAsync(job.JobId, "approved", """{"By":"cy"}"""u8.ToArray(), TenantId.Default));
        var signal = Assert.Single((await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None))!);
        Assert.Equal(("$signal:approved", """{"By":"cy"}"""), (signal.Name, System.Text.Encoding.UTF8.GetString(signal.Result.Span)));
        Assert.Equal(JobSignalResult.AlreadyDelivered, await workflows.SignalAsync(job.JobId, "approved", new Approval("bo"), TenantId.Default));

        // No payload is JSON null, as an empty body over HTTP is.
        Assert.Equal(JobSignalResult.Delivered, await workflows.SignalAsync(job.JobId, "reviewed", ReadOnlyMemory<byte>.Empty, TenantId.Default));
        var reviewed = Assert.Single((await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None))!, s => s.Name == "$signal:reviewed");
        Assert.Equal("null", System.Text.Encoding.UTF8.GetString(reviewed.Result.Span));
    }

    [Fact]
    public async Task TheWorkflowClientsSignal_ReachesOnlyTheJobsOfItsTenant()
    {
        await using var harness = await ServerHarness.StartAsync(start: false);
        await harness.Store.InitializeAsync(CancellationToken.None);
        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray(), new JobOptions { Tenant = "acme" });

        Assert.Equal(JobSignalResult.NotFound, await workflows.SignalAsync(job.JobId, "approved", true, TenantId.Default));
        Assert.Equal(JobSignalResult.NotFound, await workflows.SignalAsync("not a job id", "approved", true, "acme"));
        Assert.Equal(JobSignalResult.Delivered, await workflows.SignalAsync(job.JobId, "approved", true, "acme"));
        await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "has space", true, "acme"));
        await Assert.ThrowsAsync<ArgumentException>(() => workflows.SignalAsync(job.JobId, "approved", true, "not a tenant"));
    }

    [Fact]
    public async Task ASignalDeliveredBeforeTheJobRuns_IsReturnedAtOnce_AndTheJobNeverParks()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(
            configureConveyor: c => c.AddHandler("test:approval", ApprovalHandler(log, TimeSpan.FromHours(1))), start: false);
        await harness.Store.InitializeAsync(CancellationToken.None);
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray());
        Assert.Equal(JobSignalResult.Delivered, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", """{"By":"bo"}"""u8.ToArray(), CancellationToken.None));

        await harness.StartHostAsync();

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start@1", "open", "approved by bo"], log);
    }

    [Fact]
    public async Task AWaitWhoseTimeoutPasses_ReturnsNull_AndALateSignalIsRefused()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:approval", ApprovalHandler(log, TimeSpan.FromMilliseconds(300))));
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray());

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start@1", "open", "start@1", "timed out"], log);
        Assert.Equal(JobSignalResult.Finished, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", "1"u8.ToArray(), CancellationToken.None));
        var steps = await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None);
        Assert.Equal(["open", "$wait:approved", "$signal:approved"], steps!.Select(s => s.Name));
        Assert.True(steps![2].Result.IsEmpty);
    }

    [Fact]
    public async Task AWaitThatTimedOut_ReturnsNullAgain_ToEveryLaterRun_RawAndTyped()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:two-waits", async (context, cancellationToken) =>
        {
            var raw = await context.WaitForSignalAsync("first", TimeSpan.FromMilliseconds(200), cancellationToken);
            var typed = await context.WaitForSignalAsync<Approval>("first", TimeSpan.FromMilliseconds(200), cancellationToken);
            log.Enqueue($"first: {(raw is null ? "null" : "empty bytes")}, {(typed is null ? "null" : typed.By)}");
            var second = await context.WaitForSignalAsync<Approval>("second", TimeSpan.FromHours(1), cancellationToken);
            log.Enqueue("second: " + second?.By);
        }));
        var job = await harness.Client.EnqueueAsync("test:two-waits", "{}"u8.ToArray());
        await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled && j.SnoozeReason!.Contains("'second'", StringComparison.Ordinal));

        await harness.Store.SignalAsync(TenantId.Default, job.JobId, "second", """{"By":"ada"}"""u8.ToArray(), CancellationToken.None);

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(["first: null, null", "first: null, null", "second: ada"], log);
    }

    [Fact]
    public async Task ASleep_ParksTheJob_AndItRunsAgainAtItsTime()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:sleep", async (context, _) =>
        {
            log.Enqueue($"start@{context.Attempt}");
            await context.RunStepAsync("before", _ =>
            {
                log.Enqueue("before");
                return ValueTask.CompletedTask;
            });
            // Long enough that a loaded machine's poll sees the parked job before it runs again.
            await context.SleepAsync("cool-off", TimeSpan.FromSeconds(2));
            log.Enqueue("after");
        }));
        var job = await harness.Client.EnqueueAsync("test:sleep", "{}"u8.ToArray());

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled || j.State.IsFinished());
        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.StartsWith("Sleeping until ", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.Equal(["start@1", "before", "start@1", "after"], log);
    }

    [Fact]
    public async Task AWaitBeyondTheJobsDeadline_ParksItUntilTheDeadline_ThenItFails_AndALaterSignalIsRefused()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:approval", ApprovalHandler(log, TimeSpan.FromHours(1))));
        var deadline = DateTimeOffset.UtcNow.AddSeconds(5);
        var job = await harness.Client.EnqueueAsync("test:approval", "{}"u8.ToArray(), new JobOptions { Deadline = deadline });

        var parked = await WaitForAsync(harness, job.JobId, j => j.State == JobState.Scheduled || j.State.IsFinished());
        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.True(parked.ScheduledAt <= deadline, $"parked until {parked.ScheduledAt:O}, after the deadline {deadline:O}");
        Assert.Contains("The job's deadline", parked.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("deadline", done.Errors[^1].Message, StringComparison.Ordinal);
        Assert.Equal(["start@1", "open"], log);
        Assert.Equal(JobSignalResult.Finished, await harness.Store.SignalAsync(TenantId.Default, job.JobId, "approved", "1"u8.ToArray(), CancellationToken.None));
    }

    [Fact]
    public async Task AWaitReachedAfterTheDeadline_FailsTheJob_WithoutRecordingTheWaitAsTimedOut()
    {
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:late-wait", async (context, _) =>
        {
            // A handler that does not watch its token reaches its wait after the deadline.
            while (context.Deadline > DateTimeOffset.UtcNow)
            {
                await Task.Yield();
            }

            await context.WaitForSignalAsync("approved", TimeSpan.FromHours(1), CancellationToken.None);
        }));
        var job = await harness.Client.EnqueueAsync("test:late-wait", "{}"u8.ToArray(), new JobOptions { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(500) });

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("deadline", done.Errors[^1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None) ?? [], s => s.Name == "$signal:approved");
    }

    [Fact]
    public async Task ASleepBeyondTheJobsDeadline_FailsTheJobAtTheDeadline()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:sleep", async (context, _) =>
        {
            log.Enqueue($"start@{context.Attempt}");
            await context.SleepAsync("night", TimeSpan.FromHours(8));
            log.Enqueue("after");
        }));
        var job = await harness.Client.EnqueueAsync("test:sleep", "{}"u8.ToArray(), new JobOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(5) });

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("deadline", done.Errors[^1].Message, StringComparison.Ordinal);
        Assert.Equal(["start@1"], log);
    }

    [Fact]
    public async Task ASleepName_UsedTwiceInOneAttempt_IsAnInvalidOperationException_ButASleepAndAStepMayShareAName()
    {
        var log = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:sleep-twice", async (context, _) =>
        {
            await context.SleepAsync("pause", TimeSpan.Zero);
            await context.RunStepAsync("pause", _ => ValueTask.CompletedTask);
            try
            {
                // Before, this returned at once: the first sleep's stored wake-up time had passed.
                await context.SleepAsync("pause", TimeSpan.FromHours(1));
                log.Enqueue("slept");
            }
            catch (InvalidOperationException e)
            {
                log.Enqueue(e.Message[..13]);
            }
        }));
        var job = await harness.Client.EnqueueAsync("test:sleep-twice", "{}"u8.ToArray());

        var done = await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(["Sleep 'pause'"], log);
    }

    [Fact]
    public async Task ReservedStepNames_FailTheJobWithoutRetrying_AndBadSignalNames_AreArgumentExceptions()
    {
        var errors = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:bad-names", async (context, cancellationToken) =>
        {
            foreach (var attempt in new Func<Task>[]
            {
                async () => await context.RunStepAsync("$signal:x", _ => ValueTask.CompletedTask),
                async () => await context.WaitForSignalAsync("has space", TimeSpan.FromSeconds(1), cancellationToken),
                async () => await context.WaitForSignalAsync("ok", TimeSpan.FromSeconds(-1), cancellationToken),
                async () => await context.SleepAsync("$x", TimeSpan.FromSeconds(1)),
            })
            {
                try
                {
                    await attempt();
                }
                catch (Exception e) when (e is ArgumentException or SkipRetryException)
                {
                    errors.Enqueue(e.GetType().Name);
                }
            }
        }));

        var job = await harness.Client.EnqueueAsync("test:bad-names", "{}"u8.ToArray());
        await WaitForAsync(harness, job.JobId, j => j.State.IsFinished());

        Assert.Equal(["SkipRetryException", "ArgumentException", "ArgumentOutOfRangeException", "SkipRetryException"], errors);
        Assert.Empty((await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None))!);
    }
}
