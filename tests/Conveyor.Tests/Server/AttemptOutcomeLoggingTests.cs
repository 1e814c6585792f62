using System.Diagnostics;
using Conveyor.Server;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Server;

/// <summary>One structured log line per attempt's outcome, at the level an operator filters on, with the trace id.</summary>
public sealed class AttemptOutcomeLoggingTests
{
    [Fact]
    public async Task Success_IsOneLine_AtDebug_WithEveryField()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        var result = await harness.Client.EnqueueLowAsync(new EchoJob("logged"));
        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        var line = Assert.Single(OutcomeLines(logs, result.JobId));
        Assert.Equal(LogLevel.Debug, line.Level);
        Assert.Equal("success", line.OwnFields["outcome"]);
        Assert.Equal("test:echo", line.OwnFields["job_type"]);
        Assert.Equal("low", line.OwnFields["queue"]);
        Assert.Equal(1, line.OwnFields["attempt"]);
        Assert.True((double)line.OwnFields["duration_ms"]! >= 0);
        Assert.True(line.OwnFields.ContainsKey("trace_id"));
    }

    [Fact]
    public async Task AnAttemptWhoseLeaseExpiresUnextended_IsStopped_AndSaysSo_AtWarning()
    {
        // The store cannot be reached while the job runs, so its lease is not extended and expires under it: another
        // server may recover the job, so this attempt is stopped and its outcome is not recorded.
        var logs = new CapturingLoggerProvider();
        var (store, control) = UnreliableStore.Wrap(new Conveyor.Storage.InMemory.InMemoryJobStore());
        await using var harness = await ServerHarness.StartAsync(
            configureServer: o => o.LeaseDuration = TimeSpan.FromMilliseconds(300),
            configureServices: s => s.AddSingleton<ILoggerProvider>(logs),
            store: store);
        var result = await harness.Client.EnqueueAsync(new SlowJob(800, IgnoreCancellation: true));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId), because: "the job starts");
        control.Available = false;
        await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.EventId.Id == 12 && e.Message.Contains(result.JobId, StringComparison.Ordinal)),
            because: "the attempt ends with its lease lost");
        control.Available = true;

        var line = logs.Entries.First(e => e.EventId.Id == 99);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("before this server could extend it", line.Message, StringComparison.Ordinal);
        Assert.Equal(1, line.OwnFields["attempt"]);
        Assert.Equal("lease_lost", logs.Entries.First(e => e.EventId.Id == 12).OwnFields["outcome"]);
    }

    [Fact]
    public async Task AnAttemptWithinItsLease_SaysNothingOfIt()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        var result = await harness.Client.EnqueueAsync(new SlowJob(50));
        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 17);
    }

    [Fact]
    public async Task Success_AtInformation_WhenTheSettingSaysSo()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs, o => o.SuccessLogLevel = LogLevel.Information);

        var result = await harness.Client.EnqueueLowAsync(new EchoJob("logged"));
        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        Assert.Equal(LogLevel.Information, Assert.Single(OutcomeLines(logs, result.JobId)).Level);
    }

    [Fact]
    public async Task RetriesAtWarning_ThenSuccess_OneLinePerAttempt_AndTheExceptionLoggedOnceEach()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        var result = await harness.Client.EnqueueAsync(new FlakyJob(FailTimes: 2), new JobOptions { MaxRetry = 3 });
        await harness.WaitForStateAsync(result.JobId, JobState.Succeeded);

        var lines = OutcomeLines(logs, result.JobId);
        Assert.Equal([(1, "retry", LogLevel.Warning), (2, "retry", LogLevel.Warning), (3, "success", LogLevel.Debug)],
            lines.Select(l => ((int)l.OwnFields["attempt"]!, (string)l.OwnFields["outcome"]!, l.Level)).ToArray());
        Assert.All(lines.Take(2), l => Assert.IsType<InvalidOperationException>(l.Exception));
        // retry_at as the message shows it, in the Jobs API's form, not a logger provider's rendering of a DateTimeOffset.
        var retryAt = Assert.IsType<string>(lines[0].OwnFields["retry_at"]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", retryAt);
        Assert.Contains($"next attempt at {retryAt}:", lines[0].Message, StringComparison.Ordinal);
        // No second line for the same failure (the recovery middleware used to log the exception too).
        Assert.Equal(2, logs.Entries.Count(e => e.Exception is InvalidOperationException));
        Assert.Equal(2, logs.Entries.Count(e => e.Level >= LogLevel.Warning && e.Message.Contains(result.JobId, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FailureForGood_IsOneLineAtError_WithTheException()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        var result = await harness.Client.EnqueueAsync(new FlakyJob(FailTimes: 10), new JobOptions { MaxRetry = 1 });
        await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        var lines = OutcomeLines(logs, result.JobId);
        Assert.Equal([(1, "retry", LogLevel.Warning), (2, "failed", LogLevel.Error)],
            lines.Select(l => ((int)l.OwnFields["attempt"]!, (string)l.OwnFields["outcome"]!, l.Level)).ToArray());
        Assert.Contains("transient failure on attempt 2", (string)lines[1].OwnFields["error"]!, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(lines[1].Exception);
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Error);
    }

    [Fact]
    public async Task AHandlersMessage_WithALineBreakAndAnEscSequence_IsEscapedInItsLines_AndTheExceptionIsKeptAsThrown()
    {
        // A handler that echoes its input in an exception message must not write a log line of its own, nor colour
        // the operator's terminal.
        const string Message = "bad input\nfake line: fail: Conveyor.Server.Processor[5] \u001b[31mred\u001b[0m\r";
        var logs = new CapturingLoggerProvider();
        await using var harness = await ServerHarness.StartAsync(
            configureConveyor: c => c.AddHandler<ThrowingHandler>(),
            configureServices: s => s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace)));

        var result = await harness.Client.EnqueueAsync(new ThrowingJob(Message), new JobOptions { MaxRetry = 1 });
        await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        var lines = OutcomeLines(logs, result.JobId);
        Assert.Equal(["retry", "failed"], lines.Select(static l => (string)l.OwnFields["outcome"]!));
        Assert.All(lines, line =>
        {
            Assert.DoesNotContain(line.Message, char.IsControl);
            Assert.Contains(@": bad input\nfake line: fail: Conveyor.Server.Processor[5] \u001b[31mred\u001b[0m\r (trace", line.Message, StringComparison.Ordinal);
            Assert.Equal(@"bad input\nfake line: fail: Conveyor.Server.Processor[5] \u001b[31mred\u001b[0m\r", line.OwnFields["error"]);
            // Structured sinks get the exception as thrown; the stored error keeps the message as written too.
            Assert.Equal(Message, Assert.IsType<InvalidOperationException>(line.Exception).Message);
        });
        Assert.Equal(Message, (await harness.Store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None))!.Errors[^1].Message);
    }

    [Fact]
    public async Task SkipRetry_IsOneFailureLineAtError()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        var result = await harness.Client.EnqueueAsync(new FlakyJob(FailTimes: 1, SkipRetry: true), new JobOptions { MaxRetry = 5 });
        await harness.WaitForStateAsync(result.JobId, JobState.Failed);

        var line = Assert.Single(OutcomeLines(logs, result.JobId));
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal("failed", line.OwnFields["outcome"]);
        Assert.IsType<SkipRetryException>(line.Exception);
        Assert.Single(logs.Entries, e => e.Exception is not null);
    }

    [Fact]
    public async Task Cancel_IsOneLineAtInformation()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        var result = await harness.Client.EnqueueAsync(new SlowJob(60_000));
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Any(s => s.JobId == result.JobId));
        await harness.Store.CancelAsync(TenantId.Default, result.JobId, CancellationToken.None);
        await harness.WaitForStateAsync(result.JobId, JobState.Cancelled);

        var line = Assert.Single(OutcomeLines(logs, result.JobId));
        Assert.Equal((LogLevel.Information, "cancelled"), (line.Level, line.OwnFields["outcome"]));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Message.Contains(result.JobId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task HeldBackByARateLimit_IsASnoozedLineAtDebug_WithTheLimitAsItsReason()
    {
        var logs = new CapturingLoggerProvider();
        await using var harness = await ServerHarness.StartAsync(configureServices: s =>
        {
            s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            s.Configure<ConveyorOptions>(o => o.Limits.Rate["echo"] = new() { Queue = QueueName.Default, JobType = EchoJob.JobType, Limit = 1, Period = TimeSpan.FromHours(1) });
        });

        var first = await harness.Client.EnqueueAsync(new EchoJob("first"));
        var held = await harness.Client.EnqueueAsync(new EchoJob("held"));
        await harness.WaitForStateAsync(first.JobId, JobState.Succeeded);
        await Eventually.HoldsAsync(() => OutcomeLines(logs, held.JobId).Count == 1, because: "the second job is held back by the limit");

        var line = Assert.Single(OutcomeLines(logs, held.JobId));
        Assert.Equal((LogLevel.Debug, "snoozed"), (line.Level, line.OwnFields["outcome"]));
        Assert.StartsWith("Rate limit 'echo' reached", (string)line.OwnFields["reason"]!, StringComparison.Ordinal);
        Assert.DoesNotContain("handler", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLine_CarriesTheTraceOfTheEnqueue()
    {
        using var source = new ActivitySource("Conveyor.Tests.AttemptOutcomeLogging");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Conveyor" || s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var logs = new CapturingLoggerProvider();
        await using var harness = await StartAsync(logs);

        string jobId;
        string traceId;
        using (var request = source.StartActivity("request"))
        {
            traceId = request!.TraceId.ToHexString();
            jobId = (await harness.Client.EnqueueLowAsync(new EchoJob("traced"))).JobId;
        }

        await harness.WaitForStateAsync(jobId, JobState.Succeeded);

        var line = Assert.Single(OutcomeLines(logs, jobId));
        Assert.Equal(traceId, line.OwnFields["trace_id"]);
        Assert.Contains($"(trace {traceId})", line.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LogLevel.Trace)]
    [InlineData(LogLevel.Warning)]
    [InlineData(LogLevel.None)]
    public void SuccessLogLevel_OtherThanDebugOrInformation_IsRefused_NamingTheSetting(LogLevel level)
    {
        var result = new JobServerOptionsValidator().Validate(null, new JobServerOptions { SuccessLogLevel = level });

        Assert.True(result.Failed);
        Assert.Contains("Conveyor:Server:SuccessLogLevel must be Debug or Information", result.FailureMessage, StringComparison.Ordinal);
    }

    private static Task<ServerHarness> StartAsync(CapturingLoggerProvider logs, Action<JobServerOptions>? configure = null) =>
        ServerHarness.StartAsync(configureServer: configure, configureServices: s => s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace)));

    /// <summary>The outcome lines of one job, in order: the processor's lines that carry an outcome field.</summary>
    private static List<CapturingLoggerProvider.LogEntry> OutcomeLines(CapturingLoggerProvider logs, string jobId) =>
        logs.Entries.Where(e => e.OwnFields.ContainsKey("outcome") && (string?)e.OwnFields.GetValueOrDefault("job_id") == jobId).ToList();
}
