using System.Text.Json;
using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor.Testing;

/// <summary>
/// A <see cref="JobContext"/> for a handler's unit test, and what the handler reported through it: every progress
/// value in order, the result, the result URL and the item errors.
/// <code>
/// var note = new ArchiveNote(42);
/// var test = TestJobContext.Create(note);
/// await new ArchiveNoteHandler(repository).HandleAsync(note, test.Context, CancellationToken.None);
/// Assert.Equal([50, 100], test.ReportedProgress);
/// </code>
/// </summary>
public sealed class TestJobContext
{
    private static readonly JobPayloadSerializer DefaultSerializer = new(Options.Create(new ConveyorJsonOptions()));
    private static readonly JsonSerializerOptions ResultOptions = new ConveyorJsonOptions().SerializerOptions;
    private static readonly IServiceProvider NoServices = new ServiceCollection().BuildServiceProvider();
    private readonly List<int> _progress = [];
    private readonly RunningJob _run;
    private readonly CancellationTokenSource _shutdown = new();

    private TestJobContext(LeasedJob job, TestJobOptions options)
    {
        _run = new RunningJob(job);
        Context = new JobContext(
            job,
            options.Services ?? NoServices,
            _progress.Add,
            options.TimeProvider ?? TimeProvider.System,
            DefaultSerializer.Serialize,
            _run,
            _shutdown.Token);
        var steps = (options.FinishedSteps ?? new Dictionary<string, string>())
            .Select(step => KeyValuePair.Create(step.Key, Utf8(step.Value)))
            .Concat((options.Signals ?? new Dictionary<string, string>())
                .Select(signal => KeyValuePair.Create(JobSignal.StepName(signal.Key), Utf8(signal.Value))));
        Context.SeedSteps(steps);
    }

    private static ReadOnlyMemory<byte> Utf8(string json) => System.Text.Encoding.UTF8.GetBytes(json);

    /// <summary>The context to pass to the handler.</summary>
    public JobContext Context { get; }

    /// <summary>Every value the handler passed to <see cref="JobContext.ReportProgressAsync"/>, in order.</summary>
    public IReadOnlyList<int> ReportedProgress => _progress;

    /// <summary>The result the handler set, as the store would keep it (JSON for <see cref="JobContext.SetJsonResult{TResult}"/>); null when none.</summary>
    public ReadOnlyMemory<byte>? Result => Context.Result;

    /// <summary>Where the handler said its result can be downloaded; null when it did not.</summary>
    public string? ResultUrl => Context.ResultUrl;

    /// <summary>The item errors the handler recorded: the job would finish as partial success.</summary>
    public IReadOnlyList<JobError> ItemErrors => Context.ItemErrors;

    /// <summary>A context for a job of <typeparamref name="TPayload"/>'s type, whose payload is <paramref name="payload"/> serialised as the client would.</summary>
    public static TestJobContext Create<TPayload>(TPayload payload, TestJobOptions? options = null)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Create(TPayload.JobType, DefaultSerializer.Serialize(payload), options);
    }

    /// <summary>A context for a job of <paramref name="jobType"/> with <paramref name="payload"/>'s bytes (a delegate handler's test).</summary>
    public static TestJobContext Create(string jobType, ReadOnlyMemory<byte> payload, TestJobOptions? options = null)
    {
        JobType.EnsureValid(jobType, nameof(jobType));
        options ??= new TestJobOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Attempt, 1, nameof(options));
        var now = (options.TimeProvider ?? TimeProvider.System).GetUtcNow();
        var job = new LeasedJob
        {
            Id = options.JobId ?? Conveyor.JobId.New(),
            Type = jobType,
            Queue = options.Queue,
            Tenant = options.Tenant,
            Payload = payload,
            Attempt = options.Attempt,
            MaxRetry = options.MaxRetry,
            Deadline = options.Deadline,
            BatchId = options.BatchId,
            LeaseToken = 1,
            // A unit test's clock may move any distance: the attempt never loses its lease here.
            LeaseExpiresAt = DateTimeOffset.MaxValue,
            CreatedAt = now,
            EnqueuedAt = now,
        };
        return new TestJobContext(job, options);
    }

    /// <summary>The result read back as <typeparamref name="TResult"/> (the handler's <see cref="JobContext.SetJsonResult{TResult}"/>).</summary>
    /// <exception cref="InvalidOperationException">The handler set no result.</exception>
    public TResult? ResultAs<TResult>() =>
        Result is { } result
            ? JsonSerializer.Deserialize<TResult>(result.Span, ResultOptions)
            : throw new InvalidOperationException("The handler set no result.");

    /// <summary>Cancels the attempt's token (<see cref="JobContext.CancellationToken"/>), as a cancel request or a timeout would.</summary>
    public void Cancel() => _run.Stop(StopReason.CancelRequested);

    /// <summary>Signals <see cref="JobContext.ShutdownRequested"/>, as a worker that is stopping would.</summary>
    public void RequestShutdown() => _shutdown.Cancel();
}
