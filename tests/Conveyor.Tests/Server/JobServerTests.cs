using System.Text;
using System.Text.Json;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

public sealed class JobServerTests
{
    [Fact]
    public async Task EnqueuedJob_IsProcessed_AndSucceedsWithItsResult()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new EchoJob("hello"));
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        Assert.Equal(1, job.Attempts);
        Assert.Equal(100, job.Progress);
        Assert.NotNull(job.CompletedAt);
        Assert.Equal("""{"echoed":"hello"}""", Encoding.UTF8.GetString(job.Result!.Value.Span));
    }

    [Fact]
    public async Task Handlers_AreResolvedInANewScopePerJob()
    {
        await using var harness = await ServerHarness.StartAsync();

        var first = await harness.Client.EnqueueAsync(new EchoJob("a"));
        var second = await harness.Client.EnqueueAsync(new EchoJob("b"));
        await harness.WaitForStateAsync(first.JobId, JobState.Succeeded);
        await harness.WaitForStateAsync(second.JobId, JobState.Succeeded);

        Assert.Equal(2, harness.Recorder.Scopes.Distinct().Count());
    }

    [Fact]
    public async Task PayloadThatDoesNotFitItsType_FailsWithoutRetry_NamingTypeAndReason()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(EchoJob.JobType, """{"text": 42}"""u8.ToArray(), new JobOptions { MaxRetry = 5 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Equal(1, job.Attempts);
        var error = Assert.Single(job.Errors);
        Assert.Contains("'test:echo'", error.Message, StringComparison.Ordinal);
        Assert.Contains("EchoJob", error.Message, StringComparison.Ordinal);
        // Named as the enqueue's check names it, not as the parser does ("could not be converted to EchoJob").
        Assert.EndsWith("$.text: must be a string (EchoJob declares it as string).", error.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(SkipRetryException).FullName, error.ExceptionType);
    }

    [Fact]
    public async Task MalformedJsonPayload_FailsWithoutRetry()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(EchoJob.JobType, "{not json"u8.ToArray(), new JobOptions { MaxRetry = 5 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Equal(1, job.Attempts);
        Assert.Contains("could not be deserialised", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransientFailure_IsRetried_UntilItSucceeds()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new FlakyJob(FailTimes: 2), new JobOptions { MaxRetry = 3 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        Assert.Equal(3, job.Attempts);
        Assert.Equal(2, job.Errors.Count);
        Assert.Equal([1, 2], job.Errors.Select(e => e.Attempt));
        Assert.All(job.Errors, e => Assert.Equal(typeof(InvalidOperationException).FullName, e.ExceptionType));
    }

    [Fact]
    public async Task TransientFailure_OutOfRetries_EndsInFailed()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new FlakyJob(FailTimes: 10), new JobOptions { MaxRetry = 2 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Equal(3, job.Attempts);
        Assert.Equal(3, job.Errors.Count);
    }

    [Fact]
    public async Task SkipRetryError_FailsTheJobAtOnce()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new FlakyJob(FailTimes: 1, SkipRetry: true), new JobOptions { MaxRetry = 5 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Equal(1, job.Attempts);
        Assert.Contains("permanent failure", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_CancelsTheHandlersToken_AndCountsAsAFailedAttempt()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new SlowJob(60_000), new JobOptions { Timeout = TimeSpan.FromMilliseconds(100), MaxRetry = 0 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Contains(result.JobId, harness.Recorder.Cancelled);
        Assert.Contains("timed out", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_CancelsTheHandlersToken_AndFailsWithoutRetry()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new SlowJob(60_000), new JobOptions { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(300), MaxRetry = 5 });
        var job = await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        Assert.Contains(result.JobId, harness.Recorder.Cancelled);
        Assert.Equal(1, job.Attempts);
        Assert.Contains("deadline", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimeoutAndDeadlineBeyondATimersReach_RunTheJob()
    {
        // A timer reaches about 49.7 days at most; longer limits are reached in steps, not refused at every attempt.
        await using var harness = await ServerHarness.StartAsync();

        var longTimeout = await harness.Client.EnqueueAsync(new EchoJob("a"), new JobOptions { Timeout = TimeSpan.FromDays(3650), MaxRetry = 0 });
        var farDeadline = await harness.Client.EnqueueAsync(new EchoJob("b"), new JobOptions { Deadline = DateTimeOffset.MaxValue, MaxRetry = 0 });

        Assert.Equal(1, (await harness.WaitForStateAsync(longTimeout.JobId, JobState.Succeeded)).Attempts);
        Assert.Equal(1, (await harness.WaitForStateAsync(farDeadline.JobId, JobState.Succeeded)).Attempts);
    }

    [Fact]
    public async Task CancelOfARunningJob_CancelsItsToken_AndEndsCancelled()
    {
        await using var harness = await ServerHarness.StartAsync(o => o.LeaseDuration = TimeSpan.FromMilliseconds(600));

        var result = await harness.Client.EnqueueAsync(new SlowJob(60_000));
        await harness.WaitForStateAsync(result.JobId, JobState.Active);
        Assert.Equal(JobCommandResult.Requested, await harness.Store.CancelAsync(TenantId.Default, result.JobId, CancellationToken.None));

        await harness.WaitForStateAsync(result.JobId, JobState.Cancelled, TimeSpan.FromSeconds(5));
        Assert.Contains(result.JobId, harness.Recorder.Cancelled);
    }

    [Fact]
    public async Task ProgressResultAndItemErrors_AreStored_AndItemErrorsMakeAPartialSuccess()
    {
        await using var harness = await ServerHarness.StartAsync();

        var clean = await harness.Client.EnqueueAsync(new ImportJob(["a", "b"]));
        var partial = await harness.Client.EnqueueAsync(new ImportJob(["a", "bad-1", "c", "bad-2"]));

        var cleanJob = await harness.WaitForStateAsync(clean.JobId, JobState.Succeeded);
        var partialJob = await harness.WaitForStateAsync(partial.JobId, JobState.Partial);
        Assert.Equal("https://example.test/results/1", cleanJob.ResultUrl);
        Assert.Empty(cleanJob.Errors);
        Assert.Equal(["row 2", "row 4"], partialJob.Errors.Select(e => e.Item));
        Assert.Equal(4, JsonDocument.Parse(partialJob.Result!.Value).RootElement.GetProperty("imported").GetInt32());
    }

    [Fact]
    public async Task PausedQueue_IsNotDequeued_UntilResumed()
    {
        await using var harness = await ServerHarness.StartAsync();
        await harness.Store.PauseQueueAsync(QueueName.Low, CancellationToken.None);

        var low = await harness.Client.EnqueueLowAsync(new EchoJob("low"));
        var critical = await harness.Client.EnqueueCriticalAsync(new EchoJob("critical"));
        await harness.WaitForStateAsync(critical.JobId, JobState.Succeeded);
        Assert.Equal(JobState.Pending, (await harness.Store.GetAsync(TenantId.Default, low.JobId, CancellationToken.None))!.State);

        await harness.Store.ResumeQueueAsync(QueueName.Low, CancellationToken.None);
        await harness.WaitForStateAsync(low.JobId, JobState.Succeeded);
    }

    [Fact]
    public async Task ScheduledJob_RunsOnlyAfterItsTime()
    {
        await using var harness = await ServerHarness.StartAsync();

        var result = await harness.Client.EnqueueAsync(new EchoJob("later"), new JobOptions { ProcessIn = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(JobState.Scheduled, result.State);

        var job = await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);
        Assert.True(job.StartedAt >= job.ScheduledAt, $"started {job.StartedAt:O} before its time {job.ScheduledAt:O}");
    }

    [Fact]
    public async Task JobsOfOtherQueues_AreNotServed()
    {
        await using var harness = await ServerHarness.StartAsync(o => o.Queues = new() { ["only"] = 1 });

        var elsewhere = await harness.Client.EnqueueAsync(new EchoJob("x"), new JobOptions { Queue = "elsewhere" });
        var served = await harness.Client.EnqueueAsync(new EchoJob("y"), new JobOptions { Queue = "only" });

        await harness.WaitForStateAsync(served.JobId, JobState.Succeeded);
        Assert.Equal(JobState.Pending, (await harness.Store.GetAsync(TenantId.Default, elsewhere.JobId, CancellationToken.None))!.State);
    }
}
