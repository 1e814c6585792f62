using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// What a handler and the middleware know about the attempt being run, and how the handler reports back:
/// progress, a result, item errors (which make the job finish as partial success).
/// </summary>
public sealed partial class JobContext
{
    private readonly IJobQueueStore? _store;
    private readonly Action<int>? _progressSink;
    private readonly TimeProvider _timeProvider;
    private readonly Func<object?, Type, byte[]> _serializeResult;
    private List<JobError>? _itemErrors;
    private List<JobError>? _notes;
    private Dictionary<string, object?>? _items;
    private readonly Server.RunningJob _run;

    internal JobContext(
        LeasedJob job,
        IServiceProvider services,
        IJobQueueStore store,
        TimeProvider timeProvider,
        Func<object?, Type, byte[]> serializeResult,
        Server.RunningJob run,
        CancellationToken shutdownRequested)
    {
        Job = job;
        Services = services;
        _store = store;
        _timeProvider = timeProvider;
        _serializeResult = serializeResult;
        _run = run;
        CancellationToken = run.Token;
        ShutdownRequested = shutdownRequested;
    }

    /// <summary>A context whose progress goes to <paramref name="progressSink"/> instead of a store: a handler's unit test.</summary>
    internal JobContext(
        LeasedJob job,
        IServiceProvider services,
        Action<int> progressSink,
        TimeProvider timeProvider,
        Func<object?, Type, byte[]> serializeResult,
        Server.RunningJob run,
        CancellationToken shutdownRequested)
        : this(job, services, store: null!, timeProvider, serializeResult, run, shutdownRequested)
    {
        _progressSink = progressSink;
    }

    internal LeasedJob Job { get; }

    internal Server.RunningJob Run => _run;

    /// <summary>The payload deserialised once for the pipeline (by the idempotency step), reused by the handler's invoker.</summary>
    internal object? DeserializedPayload { get; set; }

    /// <summary>Set when a middleware hands the job back to wait instead of running it (see <see cref="Snooze"/>).</summary>
    internal JobSnoozeRequest? SnoozeRequest { get; private set; }

    /// <summary>Lines for the job's errors that do not make it a partial success (e.g. why the handler did not run).</summary>
    internal IReadOnlyList<JobError> Notes => _notes ?? (IReadOnlyList<JobError>)[];

    /// <summary>
    /// Hands the job back to wait until <paramref name="until"/> without counting the attempt (AckOutcome.Snoozed),
    /// instead of running the rest of the pipeline; <paramref name="reason"/> is shown on the job and
    /// <paramref name="metricReason"/> labels <c>job_snoozed_total</c>.
    /// </summary>
    internal void Snooze(DateTimeOffset until, string reason, string metricReason) => SnoozeRequest = new JobSnoozeRequest(until, reason, metricReason);

    /// <summary>Adds a line to the job's errors that does not make it a partial success.</summary>
    internal void AddNote(string message) => (_notes ??= []).Add(new JobError(Attempt, message, null, null, _timeProvider.GetUtcNow()));

    /// <summary>The job's id.</summary>
    public string JobId => Job.Id;

    /// <summary>The job's type name, as registered.</summary>
    public string JobType => Job.Type;

    /// <summary>The queue the job was taken from.</summary>
    public string Queue => Job.Queue;

    /// <summary>The tenant the job belongs to.</summary>
    public string Tenant => Job.Tenant;

    /// <summary>
    /// The batch the job is a member of, or null: a member can add jobs to its own batch while it runs
    /// (<see cref="IWorkflowClient.AddToBatchAsync"/>), or read the batch's progress.
    /// </summary>
    public string? BatchId => Job.BatchId;

    /// <summary>This attempt's number, starting at 1.</summary>
    public int Attempt => Job.Attempt;

    /// <summary>How many retries the job has after its first attempt.</summary>
    public int MaxRetry => Job.MaxRetry;

    /// <summary>True when a failure of this attempt fails the job for good.</summary>
    public bool IsLastAttempt => Job.Attempt > Job.MaxRetry;

    /// <summary>The payload's JSON, as stored.</summary>
    public ReadOnlyMemory<byte> Payload => Job.Payload;

    /// <summary>When the job stops being worth running, if it has a deadline.</summary>
    public DateTimeOffset? Deadline => Job.Deadline;

    /// <summary>
    /// For a job a schedule enqueued, the tick it runs for (not when it started: a catch-up run after an outage knows
    /// which window to process); null for any other job, and for a schedule triggered by hand.
    /// </summary>
    public DateTimeOffset? ScheduledAt => Scheduling.ScheduleTickId.ScheduledAt(Job.Id);

    /// <summary>The job's dependency-injection scope.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Cancelled on timeout, deadline, cancellation, loss of the lease, or the end of the shutdown grace.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Cancelled as soon as the server begins a graceful shutdown, while <see cref="CancellationToken"/> still lets the
    /// handler run for the grace period (<c>Conveyor:Server:ShutdownTimeout</c>). A long handler can watch it to save a
    /// checkpoint and stop early: a handler that returns normally has succeeded, one that throws because of the
    /// shutdown is returned to its queue without counting the attempt.
    /// </summary>
    public CancellationToken ShutdownRequested { get; }

    /// <summary>
    /// Ends the attempt as its stop says when the handler returned without observing its token, cancelled for the
    /// timeout, the deadline or a cancel request: .NET cannot stop a handler that ignores its token, but what it returns
    /// after its time was up is not the job's outcome. Thrown where the handler returns, so that every middleware sees
    /// the attempt end as the store records it.
    /// </summary>
    internal void ThrowIfStoppedUnobserved()
    {
        if (_run.Reason is Server.StopReason.Timeout or Server.StopReason.Deadline or Server.StopReason.CancelRequested)
        {
            throw new OperationCanceledException("The handler returned after its token was cancelled.", CancellationToken);
        }
    }

    /// <summary>
    /// Why the attempt that threw <paramref name="exception"/> stopped: the reason its token was cancelled, or the shutdown
    /// when the handler gave up on <see cref="ShutdownRequested"/> itself. Decides how an interrupted attempt counts.
    /// </summary>
    internal Server.StopReason StopReasonFor(Exception exception) =>
        _run.Reason == Server.StopReason.None && exception is OperationCanceledException && ShutdownRequested.IsCancellationRequested
            ? Server.StopReason.Shutdown
            : _run.Reason;

    /// <summary>True once the attempt's lease ended under it: the store records nothing of it, whatever the handler returns.</summary>
    internal bool LeaseLost => _run.Reason == Server.StopReason.LeaseLost;

    /// <summary>The trace id of the attempt's <c>process</c> span, set by the tracing middleware when it starts one; for the outcome's log line.</summary>
    internal string? TraceId { get; set; }

    /// <summary>The exception that failed the attempt, once the pipeline caught one (set by the recovery middleware).</summary>
    public Exception? Exception { get; set; }

    /// <summary>Free-form state that middleware share during one attempt.</summary>
    public IDictionary<string, object?> Items => _items ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    internal ReadOnlyMemory<byte>? Result { get; private set; }

    internal string? ResultUrl { get; private set; }

    /// <summary>Item errors recorded so far.</summary>
    public IReadOnlyList<JobError> ItemErrors => _itemErrors ?? (IReadOnlyList<JobError>)[];

    /// <summary>
    /// Stores the job's progress, 0–100, where the Jobs API shows it. A store that does not answer loses this update,
    /// not the attempt: the handler goes on, and its next update or its end stores the progress.
    /// </summary>
    public async ValueTask ReportProgressAsync(int percent, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        if (_progressSink is not null)
        {
            _progressSink(percent);
            return;
        }

        try
        {
            await _store!.ReportProgressAsync(Job.Id, Job.LeaseToken, percent, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException)
        {
            // Progress is for people watching; failing the attempt for it would throw away the work done so far (a job
            // without retries failed for good in a store's restart of a few seconds).
        }
    }

    /// <summary>Sets the result stored when the job succeeds, and optionally where to download it.</summary>
    public void SetResult(ReadOnlyMemory<byte> result, string? resultUrl = null)
    {
        Result = result;
        if (resultUrl is not null)
        {
            ResultUrl = resultUrl;
        }
    }

    /// <summary>Sets a result object, stored as JSON with the payload serializer's settings.</summary>
    public void SetJsonResult<TResult>(TResult result, string? resultUrl = null) =>
        SetResult(new ReadOnlyMemory<byte>(_serializeResult(result, typeof(TResult))), resultUrl);

    /// <summary>Sets where the job's result can be downloaded (a report file, an export).</summary>
    public void SetResultUrl(string resultUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resultUrl);
        ResultUrl = resultUrl;
    }

    /// <summary>
    /// Records an error about one item (a row, a record) while the handler goes on with the others. A job that
    /// completes with item errors finishes as partial success.
    /// </summary>
    public void AddItemError(string item, string message)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        (_itemErrors ??= []).Add(new JobError(Attempt, message, null, item, _timeProvider.GetUtcNow()));
    }
}
