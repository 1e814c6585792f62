using System.Collections.Concurrent;

namespace Conveyor.Tests.TestSupport;

/// <summary>What the test handlers saw, shared by the handlers of one test host.</summary>
internal sealed class JobRecorder
{
    public ConcurrentQueue<(string JobId, string Type, string Queue, int Attempt)> Started { get; } = new();

    public ConcurrentQueue<string> Cancelled { get; } = new();

    public ConcurrentQueue<Guid> Scopes { get; } = new();

    public int StartedCount(string jobId) => Started.Count(s => s.JobId == jobId);
}

internal sealed class ScopedDependency
{
    public Guid Id { get; } = Guid.NewGuid();
}

internal sealed record EchoJob(string Text) : IJobPayload
{
    public static string JobType => "test:echo";
}

internal sealed class EchoHandler(JobRecorder recorder, ScopedDependency scoped) : IJobHandler<EchoJob>
{
    public Task HandleAsync(EchoJob payload, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Started.Enqueue((context.JobId, context.JobType, context.Queue, context.Attempt));
        recorder.Scopes.Enqueue(scoped.Id);
        context.SetJsonResult(new { echoed = payload.Text });
        return Task.CompletedTask;
    }
}

/// <summary>Fails its first <see cref="FailTimes"/> attempts, with a skip-retry error if asked.</summary>
internal sealed record FlakyJob(int FailTimes, bool SkipRetry = false) : IJobPayload
{
    public static string JobType => "test:flaky";
}

internal sealed class FlakyHandler(JobRecorder recorder) : IJobHandler<FlakyJob>
{
    public Task HandleAsync(FlakyJob payload, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Started.Enqueue((context.JobId, context.JobType, context.Queue, context.Attempt));
        if (context.Attempt <= payload.FailTimes)
        {
            throw payload.SkipRetry
                ? new SkipRetryException($"permanent failure on attempt {context.Attempt}")
                : new InvalidOperationException($"transient failure on attempt {context.Attempt}");
        }

        return Task.CompletedTask;
    }
}

/// <summary>Throws an <see cref="InvalidOperationException"/> with <see cref="Message"/> on every attempt.</summary>
internal sealed record ThrowingJob(string Message) : IJobPayload
{
    public static string JobType => "test:throwing";
}

internal sealed class ThrowingHandler : IJobHandler<ThrowingJob>
{
    public Task HandleAsync(ThrowingJob payload, JobContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException(payload.Message);
}

/// <summary>Waits <see cref="Milliseconds"/> (real time) or until its token is cancelled, unless told to ignore it.</summary>
internal sealed record SlowJob(int Milliseconds, bool IgnoreCancellation = false) : IJobPayload
{
    public static string JobType => "test:slow";
}

internal sealed class SlowHandler(JobRecorder recorder) : IJobHandler<SlowJob>
{
    public async Task HandleAsync(SlowJob payload, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Started.Enqueue((context.JobId, context.JobType, context.Queue, context.Attempt));
        try
        {
            await Task.Delay(payload.Milliseconds, payload.IgnoreCancellation ? CancellationToken.None : cancellationToken);
        }
        catch (OperationCanceledException)
        {
            recorder.Cancelled.Enqueue(context.JobId);
            throw;
        }
    }
}

/// <summary>Reports progress, writes a result with a URL, and records an item error per bad item.</summary>
internal sealed record ImportJob(string[] Items) : IJobPayload
{
    public static string JobType => "test:import";
}

internal sealed class ImportHandler : IJobHandler<ImportJob>
{
    public async Task HandleAsync(ImportJob payload, JobContext context, CancellationToken cancellationToken)
    {
        for (var i = 0; i < payload.Items.Length; i++)
        {
            if (payload.Items[i].StartsWith("bad", StringComparison.Ordinal))
            {
                context.AddItemError($"row {i + 1}", $"'{payload.Items[i]}' is not valid");
            }
        }

        await context.ReportProgressAsync(50, cancellationToken);
        context.SetJsonResult(new { imported = payload.Items.Length }, "https://example.test/results/1");
    }
}
