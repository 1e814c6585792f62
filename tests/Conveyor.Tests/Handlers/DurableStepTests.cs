using System.Collections.Concurrent;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Handlers;

/// <summary>
/// <see cref="JobContext.RunStepAsync(string, Func{CancellationToken, ValueTask{ReadOnlyMemory{byte}}})"/> through a
/// real server: a step finished by an attempt is not run again by the retry, which gets its stored result instead.
/// </summary>
public sealed class DurableStepTests
{
    private sealed record Charge(string Id, decimal Amount);

    [Fact]
    public async Task ARetry_SkipsTheStepsAnEarlierAttemptFinished_AndGetsTheirResults()
    {
        var runs = new ConcurrentQueue<string>();
        var seen = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:steps", async (context, _) =>
        {
            var charge = await context.RunStepAsync("charge", _ =>
            {
                runs.Enqueue($"charge@{context.Attempt}");
                return ValueTask.FromResult(new Charge("ch_" + context.Attempt, 12.5m));
            });
            await context.RunStepAsync("email", _ =>
            {
                runs.Enqueue($"email@{context.Attempt}");
                return ValueTask.CompletedTask;
            });
            var count = await context.RunStepAsync("count", _ => ValueTask.FromResult(0));
            seen.Enqueue($"{charge.Id} {charge.Amount} {count}@{context.Attempt}");
            if (context.Attempt == 1)
            {
                throw new InvalidOperationException("the ledger did not answer");
            }
        }));

        var job = await harness.Client.EnqueueAsync("test:steps", "{}"u8.ToArray(), new JobOptions { MaxRetry = 2 });
        await Eventually.HoldsAsync(async () => (await harness.Client.GetJobAsync(job.JobId, TenantId.Default))?.State == JobState.Succeeded);

        Assert.Equal(["charge@1", "email@1"], runs);
        Assert.Equal(["ch_1 12.5 0@1", "ch_1 12.5 0@2"], seen);
        var steps = await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None);
        Assert.Equal(["charge:1", "email:1", "count:1"], steps!.Select(s => $"{s.Name}:{s.Attempt}"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("$mine")]
    [InlineData(201)]
    public async Task ABadStepName_FailsTheJobWithoutRetrying_AndTheStepNeverRuns(object name)
    {
        var stepName = name as string ?? new string('s', (int)name);
        var runs = 0;
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:bad-step", async (context, _) =>
            await context.RunStepAsync(stepName, _ =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.CompletedTask;
            })));

        var job = await harness.Client.EnqueueAsync("test:bad-step", "{}"u8.ToArray(), new JobOptions { MaxRetry = 3 });
        JobInfo? done = null;
        await Eventually.HoldsAsync(async () => (done = await harness.Client.GetJobAsync(job.JobId, TenantId.Default))?.State.IsFinished() == true);

        Assert.Equal((JobState.Failed, 1), (done!.State, done.Attempts));
        Assert.Equal(typeof(SkipRetryException).FullName, done.Errors.Single().ExceptionType);
        Assert.Contains(stepName is "" ? "empty" : stepName[..5], done.Errors.Single().Message, StringComparison.Ordinal);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task AStepName_OverTheLimit_NamesTheLimit()
    {
        var error = await Assert.ThrowsAsync<SkipRetryException>(async () => await NewContext().RunStepAsync(new string('s', 201), _ => ValueTask.CompletedTask));

        Assert.Contains("at most 200 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains("without retrying", error.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentException>(error.InnerException);
    }

    [Fact]
    public async Task AStepResult_OverOneMebibyte_FailsTheJobWithoutRetrying_AfterOneRun()
    {
        var runs = 0;
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:big-step", async (context, _) =>
            await context.RunStepAsync("export", _ =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(new ReadOnlyMemory<byte>(new byte[JobStep.MaxResultBytes + 1]));
            })));

        var job = await harness.Client.EnqueueAsync("test:big-step", "{}"u8.ToArray(), new JobOptions { MaxRetry = 1 });
        JobInfo? done = null;
        await Eventually.HoldsAsync(async () => (done = await harness.Client.GetJobAsync(job.JobId, TenantId.Default))?.State.IsFinished() == true);

        Assert.Equal((JobState.Failed, 1), (done!.State, done.Attempts));
        var error = done.Errors.Single();
        Assert.Equal(typeof(SkipRetryException).FullName, error.ExceptionType);
        Assert.Contains("Step 'export' returned 1048577 bytes; a step result holds at most 1048576", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, runs);
        Assert.Empty((await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None))!);
    }

    [Fact]
    public async Task AStepName_UsedTwiceInOneAttempt_IsAnInvalidOperationException_AndTheSecondNeverRuns()
    {
        var context = NewContext();
        Assert.Equal(1, await context.RunStepAsync("x", _ => ValueTask.FromResult(1)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await context.RunStepAsync("x", _ => ValueTask.FromResult(2)));

        Assert.Contains("Step 'x'", error.Message, StringComparison.Ordinal);
        Assert.Contains("must be unique within the job", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStepWhoseWorkThrew_MayBeTriedAgainUnderItsNameInTheSameAttempt()
    {
        var context = NewContext();
        await Assert.ThrowsAsync<TimeoutException>(async () => await context.RunStepAsync<int>("call", _ => throw new TimeoutException()));

        Assert.Equal(2, await context.RunStepAsync("call", _ => ValueTask.FromResult(2)));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await context.RunStepAsync("call", _ => ValueTask.FromResult(3)));
    }

    [Fact]
    public async Task ARetry_StillSkipsTheStepsOfEarlierAttempts_AndRefusesAStepNameUsedTwiceInItsOwnRun()
    {
        var runs = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:loop", async (context, _) =>
        {
            for (var i = 0; i < 2; i++)
            {
                try
                {
                    // A loop with a constant step name: before, the second round returned the first one's result.
                    await context.RunStepAsync("send", _ =>
                    {
                        runs.Enqueue($"send@{context.Attempt}");
                        return ValueTask.CompletedTask;
                    });
                }
                catch (InvalidOperationException e)
                {
                    errors.Enqueue($"{e.Message[..11]}@{context.Attempt}");
                }
            }

            if (context.Attempt == 1)
            {
                throw new TimeoutException("the mail server did not answer");
            }
        }));

        var job = await harness.Client.EnqueueAsync("test:loop", "{}"u8.ToArray(), new JobOptions { MaxRetry = 1 });
        await Eventually.HoldsAsync(async () => (await harness.Client.GetJobAsync(job.JobId, TenantId.Default))?.State == JobState.Succeeded);

        Assert.Equal(["send@1"], runs);
        Assert.Equal(["Step 'send'@1", "Step 'send'@2"], errors);
    }

    /// <summary>A context without a store, as a handler's unit test has: its steps are kept in the context.</summary>
    [Fact]
    public async Task AStepReachedAfterTheLeaseEnded_DoesNotRun_AndTheAttemptEndsAsALostLease()
    {
        // A worker paused longer than its lease (a GC pause, a frozen VM, SIGSTOP) resumes in its handler: the job may
        // be running on another server by now, so the step's side effect must not happen beside that attempt's.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ran = new ConcurrentQueue<int>();
        var logs = new FakeLogCollector();
        await using var harness = await ServerHarness.StartAsync(
            store: DecidedStore.NotExtendingLeases(new InMemoryJobStore(time)),
            configureServices: s => s.AddSingleton<TimeProvider>(time).AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs)),
            configureConveyor: c => c.AddHandler("test:paused", async (context, _) =>
            {
                await context.RunStepAsync("review", _ => ValueTask.CompletedTask);
                if (context.Attempt == 1)
                {
                    time.Advance(JobServerOptions.DefaultLeaseDuration + TimeSpan.FromSeconds(1));
                }

                await context.RunStepAsync("publish", _ =>
                {
                    ran.Enqueue(context.Attempt);
                    return ValueTask.CompletedTask;
                });
            }));
        var job = await harness.Client.EnqueueAsync("test:paused", "{}"u8.ToArray(), new JobOptions { MaxRetry = 0 });

        await Eventually.HoldsAsync(() => logs.GetSnapshot().Any(r => r.Id.Id == 12 && r.Message.Contains(job.JobId, StringComparison.Ordinal)));
        Assert.DoesNotContain(1, ran);
        Assert.DoesNotContain((await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None))!, step => step is { Name: "publish", Attempt: 1 });
    }

    private static JobContext NewContext()
    {
        var job = new LeasedJob
        {
            Id = "job_1",
            Type = "test:steps",
            Queue = QueueName.Default,
            Tenant = TenantId.Default,
            Payload = "{}"u8.ToArray(),
            Attempt = 1,
            MaxRetry = 3,
            LeaseToken = 7,
            LeaseExpiresAt = DateTimeOffset.MaxValue,
            CreatedAt = DateTimeOffset.UnixEpoch,
            EnqueuedAt = DateTimeOffset.UnixEpoch,
        };
        return new JobContext(job, new ServiceCollection().BuildServiceProvider(), _ => { }, TimeProvider.System, (_, _) => [], new RunningJob(job), CancellationToken.None);
    }
}
