using Conveyor.Diagnostics;
using Conveyor.Idempotency;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Idempotency;

/// <summary>
/// The idempotency step of the pipeline in every state of its record, on the in-memory store with a fake clock:
/// first run, duplicate after done, duplicate while in progress, failure and retry, a holder that died, lease
/// extension, the done time to live, the store unreachable (fail-open, fail-closed), bad keys and bad registrations.
/// </summary>
public sealed class IdempotencyMiddlewareTests
{
    [Fact]
    public async Task FirstJob_RunsTheHandler_AndTheKeyIsDone()
    {
        await using var h = IdempotencyHarness.Create();
        var id = await h.EnqueueAsync(new ChargeCard("42", 1999));

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Succeeded, ack.Outcome);
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
        Assert.Empty((await h.GetAsync(id)).Errors);
        var record = await h.Store.TryBeginIdempotencyKeyAsync("default/payment:charge/order-42", new LeaseRef("job_other", 1), h.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(IdempotencyBeginResult.AlreadyDone(id, h.Time.GetUtcNow()), record);
    }

    [Fact]
    public async Task DuplicateAfterDone_IsAcknowledgedAsSucceededWithoutRunning_SaysSoInErrorsLogAndMetric_AndCountsAsASuccessAttempt()
    {
        await using var h = IdempotencyHarness.Create(configure: s => s.AddFakeLogging());
        using var skipped = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_idempotent_skipped_total");
        using var processed = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_processed_total");
        using var durations = new MetricCollector<double>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_duration_seconds");
        var first = await h.EnqueueAsync(new ChargeCard("42", 1999));
        await h.RunNextAsync();
        h.Time.Advance(TimeSpan.FromMinutes(5));
        var duplicate = await h.EnqueueAsync(new ChargeCard("42", 1999));

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Succeeded, ack.Outcome);
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
        Assert.DoesNotContain(duplicate, h.Ledger.Started);
        var job = await h.GetAsync(duplicate);
        Assert.Equal(JobState.Succeeded, job.State);
        var note = Assert.Single(job.Errors);
        Assert.Contains("'order-42'", note.Message, StringComparison.Ordinal);
        Assert.Contains(first, note.Message, StringComparison.Ordinal);
        Assert.Contains("without running the handler", note.Message, StringComparison.Ordinal);
        Assert.Null(note.ExceptionType);
        var measurement = Assert.Single(skipped.GetMeasurementSnapshot());
        Assert.Equal("payment:charge", measurement.Tags["task_type"]);
        // The skip is an attempt that succeeded, as the processor's log line says: the first job's and the duplicate's.
        Assert.Equal(["success", "success"], processed.GetMeasurementSnapshot().Select(m => (string?)m.Tags["status"]));
        Assert.Equal(2, durations.GetMeasurementSnapshot().Count);
        var log = Assert.Single(h.Services.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains("not run", StringComparison.Ordinal));
        Assert.Contains(duplicate, log.Message, StringComparison.Ordinal);
        Assert.Contains(first, log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateWhileInProgress_IsSnoozedNotRunConcurrently_NoAttemptCounted_ThenSkippedOnceTheFirstIsDone()
    {
        await using var h = IdempotencyHarness.Create();
        using var snoozed = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_snoozed_total");
        h.Ledger.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = await h.EnqueueAsync(new ChargeCard("42", 1999));
        var duplicate = await h.EnqueueAsync(new ChargeCard("42", 1999));
        var running = h.FinishAsync(await h.LeaseAsync());
        await Eventually.HoldsAsync(() => h.Ledger.Started.Contains(first));

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Snoozed, ack.Outcome);
        Assert.DoesNotContain(duplicate, h.Ledger.Started);
        var waiting = await h.GetAsync(duplicate);
        Assert.Equal(JobState.Scheduled, waiting.State);
        Assert.Equal(0, waiting.Attempts);
        Assert.Empty(waiting.Errors);
        Assert.Contains("'order-42'", waiting.SnoozeReason, StringComparison.Ordinal);
        Assert.Contains(first, waiting.SnoozeReason, StringComparison.Ordinal);
        // Until the holder's record expires (its lease, 4 s), not sooner than the minimum wait.
        Assert.Equal(h.Time.GetUtcNow() + IdempotencyHarness.LeaseDuration, waiting.ScheduledAt);
        var measurement = Assert.Single(snoozed.GetMeasurementSnapshot());
        Assert.Equal(IdempotencyMiddleware.BusyMetricReason, measurement.Tags["reason"]);

        h.Ledger.Gate.SetResult();
        Assert.Equal(AckOutcome.Succeeded, (await running).Outcome);
        h.Time.Advance(IdempotencyHarness.LeaseDuration);
        await h.Store.PromoteDueAsync(100, CancellationToken.None);
        Assert.Equal(AckOutcome.Succeeded, (await h.RunNextAsync()).Outcome);

        Assert.Equal(1, h.Ledger.EffectsOf("42"));
        Assert.DoesNotContain(duplicate, h.Ledger.Started);
        var done = await h.GetAsync(duplicate);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(1, done.Attempts);
        Assert.Contains(first, Assert.Single(done.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandlerFailure_ReleasesTheKey_TheRetryRuns_AndADuplicateThenIsSkipped()
    {
        await using var h = IdempotencyHarness.Create();
        h.Ledger.FailNext = 1;
        var id = await h.EnqueueAsync(new ChargeCard("42", 1999));

        var failed = await h.RunNextAsync();
        Assert.Equal(AckOutcome.Retry, failed.Outcome);
        Assert.Equal(0, h.Ledger.EffectsOf("42"));

        // Released: another job with the key could start now.
        var probe = await h.Store.TryBeginIdempotencyKeyAsync("default/payment:charge/order-42", new LeaseRef("job_probe", 1), h.Time.GetUtcNow() + TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal(IdempotencyBeginResult.Started, probe);
        Assert.True(await h.Store.ReleaseIdempotencyKeyAsync("default/payment:charge/order-42", new LeaseRef("job_probe", 1), CancellationToken.None));

        h.Time.Advance(TimeSpan.FromSeconds(5)); // past the default backoff of a first retry
        await h.Store.PromoteDueAsync(100, CancellationToken.None);
        Assert.Equal(AckOutcome.Succeeded, (await h.RunNextAsync()).Outcome);
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
        Assert.Equal(2, h.Ledger.Started.Count(s => s == id));

        await h.EnqueueAsync(new ChargeCard("42", 1999));
        await h.RunNextAsync();
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
    }

    [Fact]
    public async Task HolderDied_ItsRecordExpiresWithItsLease_ADuplicateThenRuns()
    {
        await using var h = IdempotencyHarness.Create();
        h.Ledger.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = await h.EnqueueAsync(new ChargeCard("42", 1999));
        var duplicate = await h.EnqueueAsync(new ChargeCard("42", 1999));
        _ = h.FinishAsync(await h.LeaseAsync()); // never finishes: a worker that was killed (no lease extension either)
        await Eventually.HoldsAsync(() => h.Ledger.Started.Contains(first));
        Assert.True(h.Held.TryGet(first, out var killed) && h.Held.Remove(first, killed.Job.LeaseToken));

        h.Time.Advance(IdempotencyHarness.LeaseDuration);
        h.Ledger.Gate = null;
        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Succeeded, ack.Outcome);
        Assert.Contains(duplicate, h.Ledger.Started);
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
    }

    [Fact]
    public async Task RecoveredJob_ItsOwnEarlierLeaseHoldsTheKey_RunsAtOnce()
    {
        await using var h = IdempotencyHarness.Create();
        h.Ledger.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = await h.EnqueueAsync(new ChargeCard("42", 1999));
        _ = h.FinishAsync(await h.LeaseAsync());
        await Eventually.HoldsAsync(() => h.Ledger.Started.Contains(id));
        Assert.True(h.Held.TryGet(id, out var killed) && h.Held.Remove(id, killed.Job.LeaseToken));
        h.Time.Advance(IdempotencyHarness.LeaseDuration + TimeSpan.FromMilliseconds(1));
        Assert.Single(await h.Store.RecoverExpiredLeasesAsync(100, CancellationToken.None));

        // The record's expiry is the lease's, but it would be taken over by the same job even before it.
        h.Ledger.Gate = null;
        Assert.Equal(AckOutcome.Succeeded, (await h.RunNextAsync()).Outcome);

        Assert.Equal(2, h.Ledger.Started.Count(s => s == id));
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
    }

    [Fact]
    public async Task LongHandler_ItsRecordFollowsTheExtendedLease_ADuplicateKeepsWaiting()
    {
        await using var h = IdempotencyHarness.Create();
        h.Ledger.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = await h.EnqueueAsync(new ChargeCard("42", 1999));
        var duplicate = await h.EnqueueAsync(new ChargeCard("42", 1999));
        var running = h.FinishAsync(await h.LeaseAsync());
        await Eventually.HoldsAsync(() => h.Ledger.Started.Contains(first));
        var extender = h.CreateLeaseExtender();

        for (var i = 0; i < 6; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(2));
            await extender.RunOnceAsync(CancellationToken.None);
        }

        // 12 s later, three leases' worth: the duplicate still waits.
        Assert.Equal(AckOutcome.Snoozed, (await h.RunNextAsync()).Outcome);
        Assert.Equal(h.Time.GetUtcNow() + IdempotencyHarness.LeaseDuration, (await h.GetAsync(duplicate)).ScheduledAt);
        h.Ledger.Gate.SetResult();
        await running;
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
    }

    [Fact]
    public async Task DoneKey_AfterItsTimeToLive_RunsAgain()
    {
        await using var h = IdempotencyHarness.Create();
        await h.EnqueueAsync(new ShipOrder("7"));
        await h.RunNextAsync();
        h.Time.Advance(TimeSpan.FromMinutes(59));
        await h.EnqueueAsync(new ShipOrder("7"));
        await h.RunNextAsync();
        Assert.Equal(1, h.Ledger.EffectsOf("7"));

        h.Time.Advance(TimeSpan.FromMinutes(61)); // [Idempotent(KeepDoneForHours = 1)] on ShipOrderHandler
        await h.EnqueueAsync(new ShipOrder("7"));
        await h.RunNextAsync();

        Assert.Equal(2, h.Ledger.EffectsOf("7"));
    }

    [Fact]
    public async Task SameKey_OtherTenantOrOtherJobType_IsAnotherKey()
    {
        await using var h = IdempotencyHarness.Create();
        await h.EnqueueAsync(new ChargeCard("42", 1999));
        await h.EnqueueAsync(new ChargeCard("42", 1999), tenant: "acme");
        await h.EnqueueAsync(new ShipOrder("order-42"));

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(AckOutcome.Succeeded, (await h.RunNextAsync()).Outcome);
        }

        Assert.Equal(2, h.Ledger.EffectsOf("42"));
        Assert.Equal(1, h.Ledger.EffectsOf("order-42"));
    }

    [Fact]
    public async Task StoreUnreachable_FailOpenByDefault_RunsTheHandlerAndWarns()
    {
        await using var h = IdempotencyHarness.Create(withOutageSwitch: true, configure: s => s.AddFakeLogging());
        using var unavailable = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), ConveyorMetrics.MeterName, "job_idempotency_unavailable_total");
        var id = await h.EnqueueAsync(new ChargeCard("42", 1999));
        h.Outage!.IdempotencyDown = true;

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Succeeded, ack.Outcome);
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
        Assert.Equal("open", Assert.Single(unavailable.GetMeasurementSnapshot()).Tags["mode"]);
        var warning = Assert.Single(h.Services.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains("fail-open", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(id, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreUnreachable_FailClosed_SnoozesWithoutRunning_ThenRunsOnceItAnswers()
    {
        await using var h = IdempotencyHarness.Create(withOutageSwitch: true);
        var id = await h.EnqueueAsync(new ShipOrder("7"));
        h.Outage!.IdempotencyDown = true;

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Snoozed, ack.Outcome);
        Assert.Equal(0, h.Ledger.EffectsOf("7"));
        var waiting = await h.GetAsync(id);
        Assert.Equal(0, waiting.Attempts);
        Assert.Contains("could not be reached", waiting.SnoozeReason, StringComparison.Ordinal);
        Assert.Equal(h.Time.GetUtcNow() + IdempotencyMiddleware.FailClosedDelay, waiting.ScheduledAt);

        h.Outage.IdempotencyDown = false;
        h.Time.Advance(IdempotencyMiddleware.FailClosedDelay);
        await h.Store.PromoteDueAsync(100, CancellationToken.None);
        Assert.Equal(AckOutcome.Succeeded, (await h.RunNextAsync()).Outcome);
        Assert.Equal(1, h.Ledger.EffectsOf("7"));
    }

    [Fact]
    public async Task EachAttempt_OneIdempotencyCallOfItsOwn_TheRecordEndsWithTheBatchedAcknowledgement()
    {
        await using var h = IdempotencyHarness.Create(withOutageSwitch: true);
        var succeeded = await h.EnqueueAsync(new ChargeCard("1", 100));
        var failed = await h.EnqueueAsync(new ChargeCard("2", 200));
        var first = await h.LeaseAsync();
        var second = await h.LeaseAsync();
        var processor = h.Services.GetRequiredService<Conveyor.Server.Processor>();
        var ok = await processor.ProcessAsync(first, CancellationToken.None);
        h.Ledger.FailNext = 1;
        var retry = await processor.ProcessAsync(second, CancellationToken.None);

        Assert.Equal(2, await h.Store.AcknowledgeManyAsync([ok!, retry!], CancellationToken.None));

        // Two attempts, one after the other: two begin calls, no complete or release of their own, one acknowledgement call for both.
        Assert.Equal(2, h.Outage!.Calls.GetValueOrDefault(nameof(IJobStore.TryBeginIdempotencyKeysAsync)));
        Assert.Equal(0, h.Outage.Calls.GetValueOrDefault(nameof(IJobStore.CompleteIdempotencyKeyAsync)));
        Assert.Equal(0, h.Outage.Calls.GetValueOrDefault(nameof(IJobStore.ReleaseIdempotencyKeyAsync)));
        Assert.Equal(1, h.Outage.Calls.GetValueOrDefault(nameof(IJobStore.AcknowledgeManyAsync)));
        var other = new LeaseRef("job_other", 1);
        Assert.Equal(IdempotencyBeginResult.AlreadyDone(succeeded, h.Time.GetUtcNow()),
            await h.Store.TryBeginIdempotencyKeyAsync("default/payment:charge/order-1", other, h.Time.GetUtcNow(), CancellationToken.None));
        Assert.Equal(IdempotencyBeginResult.Started,
            await h.Store.TryBeginIdempotencyKeyAsync("default/payment:charge/order-2", other, h.Time.GetUtcNow(), CancellationToken.None));
        Assert.Equal(JobState.Retrying, (await h.GetAsync(failed)).State);
    }

    [Fact]
    public async Task LeaseLost_AfterTheHandlerDidItsWork_NoAcknowledgement_YetTheKeyIsDone()
    {
        await using var h = IdempotencyHarness.Create();
        var id = await h.EnqueueAsync(new ShipOrder("9"));
        h.Ledger.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = await h.LeaseAsync();
        var processing = h.Services.GetRequiredService<Conveyor.Server.Processor>().ProcessAsync(run, CancellationToken.None);
        await Eventually.HoldsAsync(() => h.Ledger.Started.Contains(id));

        // The lease extender found the lease gone while the handler ran; the handler finishes its work anyway.
        run.Stop(Conveyor.Server.StopReason.LeaseLost);
        h.Ledger.Gate.SetResult();
        var ack = await processing;

        Assert.Null(ack);
        Assert.Equal(1, h.Ledger.EffectsOf("9"));
        Assert.Equal(IdempotencyBeginResult.AlreadyDone(id, h.Time.GetUtcNow()),
            await h.Store.TryBeginIdempotencyKeyAsync("default/order:ship/9", new LeaseRef("job_other", 1), h.Time.GetUtcNow(), CancellationToken.None));
    }

    [Fact]
    public async Task IdempotencyCallsFailAfterTheBegin_TheKeyStillEndsWithTheAcknowledgement_TheRetryRuns()
    {
        await using var h = IdempotencyHarness.Create(withOutageSwitch: true);
        var id = await h.EnqueueAsync(new ChargeCard("42", 1999));
        h.Ledger.FailNext = 1;
        h.Ledger.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = h.FinishAsync(await h.LeaseAsync());
        await Eventually.HoldsAsync(() => h.Ledger.Started.Contains(id));
        h.Outage!.IdempotencyDown = true;
        h.Ledger.Gate.SetResult();
        Assert.Equal(AckOutcome.Retry, (await running).Outcome);
        h.Outage.IdempotencyDown = false;
        h.Ledger.Gate = null;

        // The same job's retry takes its own earlier lease's record over: it runs at once.
        h.Time.Advance(TimeSpan.FromSeconds(3)); // past the default backoff of a first retry, within the record's expiry
        await h.Store.PromoteDueAsync(100, CancellationToken.None);
        Assert.Equal(AckOutcome.Succeeded, (await h.RunNextAsync()).Outcome);
        Assert.Equal(1, h.Ledger.EffectsOf("42"));
    }

    [Fact]
    public async Task EmptyKey_FailsTheJobAtOnce_WithoutRunningTheHandler()
    {
        await using var h = IdempotencyHarness.Create();
        var id = await h.EnqueueAsync(new ShipOrder(""), maxRetry: 5);

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Failed, ack.Outcome);
        Assert.Empty(h.Ledger.Started);
        Assert.Contains("idempotency key of job type 'order:ship'", ack.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("empty", ack.Error.Message, StringComparison.Ordinal);
        Assert.Equal(JobState.Failed, (await h.GetAsync(id)).State);
    }

    [Fact]
    public async Task KeyOverTheLimit_FailsTheJobAtOnce_NamingTheLimit()
    {
        await using var h = IdempotencyHarness.Create();
        await h.EnqueueAsync(new ShipOrder(new string('x', IdempotentAttribute.MaxKeyLength + 1)));

        var ack = await h.RunNextAsync();

        Assert.Equal(AckOutcome.Failed, ack.Outcome);
        Assert.Contains("513 characters long, over the limit of 512", ack.Error!.Message, StringComparison.Ordinal);
        Assert.Empty(h.Ledger.Started);
    }

    [Fact]
    public void Registration_IdempotentAttributeOnAHandlerWhosePayloadHasNoKey_Throws()
    {
        var conveyor = new ServiceCollection().AddConveyor();

        var error = Assert.Throws<InvalidOperationException>(() => conveyor.AddHandler<KeylessHandler>());

        Assert.Contains(nameof(KeylessHandler), error.Message, StringComparison.Ordinal);
        Assert.Contains("IIdempotentJob", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_KeepDoneForHoursNotPositive_ThrowsNamingTheSetting()
    {
        var conveyor = new ServiceCollection().AddConveyor();

        var error = Assert.Throws<InvalidOperationException>(() => conveyor.AddHandler<ForgetfulHandler>());

        Assert.Contains("KeepDoneForHours = 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoIdempotentHandler_TheStepIsNotInThePipeline()
    {
        await using var services = new ServiceCollection().AddLogging()
            .AddConveyor().UseInMemoryStore().AddHandler<EchoHandler>().AddServer().Services.BuildServiceProvider();

        Assert.False(services.GetRequiredService<Conveyor.Handlers.JobHandlerRegistry>().HasIdempotentHandlers);
    }

    private sealed record Unkeyed(int N) : IJobPayload
    {
        public static string JobType => "test:unkeyed";
    }

    [Idempotent]
    private sealed class KeylessHandler : IJobHandler<Unkeyed>
    {
        public Task HandleAsync(Unkeyed payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed record Forgetful(string Key) : IJobPayload, IIdempotentJob
    {
        public static string JobType => "test:forgetful";

        public string IdempotencyKey => Key;
    }

    [Idempotent(KeepDoneForHours = 0)]
    private sealed class ForgetfulHandler : IJobHandler<Forgetful>
    {
        public Task HandleAsync(Forgetful payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
