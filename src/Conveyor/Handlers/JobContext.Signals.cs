using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Conveyor.Handlers;
using Conveyor.Storage;

namespace Conveyor;

/// <summary>Waiting inside a job: for a signal from outside, or for a time, without holding a worker slot.</summary>
public sealed partial class JobContext
{
    /// <summary>
    /// Set when the handler asked to wait for a signal (the processor parks the job after the handler ends): every signal
    /// this attempt waits for, so that a handler waiting for either of several (<c>Task.WhenAny</c>) is resumed by any.
    /// </summary>
    internal JobSignalWaitRequest? SignalWaitRequest { get; private set; }

    /// <summary>
    /// Set once the processor parked the job for <see cref="SignalWaitRequest"/>, to when the park ends (the earliest of
    /// the waits' deadlines, or a sleep's time when it comes first): nothing is acknowledged.
    /// </summary>
    internal DateTimeOffset? ParkedUntil { get; set; }

    /// <summary>
    /// Set when the handler slept (<see cref="SleepUntilAsync"/>), to the earliest wake-up time of its sleeps. Kept apart
    /// from a middleware's <see cref="SnoozeRequest"/>: it holds only if the attempt ended suspended, so that a handler
    /// that returns while a sleep it did not await is pending (beside a wait it did await) succeeds, not sleeps and runs again.
    /// </summary>
    internal JobSnoozeRequest? SleepRequest { get; private set; }

    /// <summary>
    /// Waits for signal <paramref name="name"/> (delivered with <c>POST /jobs/{id}/signals/{name}</c> or
    /// <see cref="IWorkflowClient.SignalAsync{T}"/>) for at most <paramref name="timeout"/>, counted from the first attempt that
    /// reaches this wait. If the signal is already on the job (delivered before, even before the job reached its wait)
    /// its payload is returned at once. Otherwise the attempt ends with a <see cref="JobSuspendedException"/> (let it
    /// through): the job is parked in state scheduled, its reason "Waiting for signal '…' until …" shown on the job, no
    /// attempt counted and no worker slot held, until the signal arrives (the job is then pending at once) or the
    /// timeout passes. The handler then runs again from the start: its finished steps (<c>RunStepAsync</c>) are skipped
    /// and this call returns the payload, or null once the timeout has passed. The outcome of a wait is decided once and
    /// kept on the job: every later attempt gets the same answer, and a signal that comes after the timeout is refused.
    /// Waits for several signals started together (awaited with <c>Task.WhenAll</c>) park the job for all of them, until
    /// the earliest deadline, and the first signal to arrive resumes it; a durable sleep started beside them ends the park
    /// at its time if that comes first. A wait started beside the one the attempt ends on that fails (the store out of
    /// reach) fails the attempt, which is retried, rather than let the job park without it.
    /// </summary>
    /// <param name="name">The signal's name: 1 to 100 letters, digits, '-', '_', '.' or ':'.</param>
    /// <param name="timeout">How long to wait, from the first attempt that reaches this call; zero checks without waiting.</param>
    /// <param name="cancellationToken">Cancels the store calls of this wait.</param>
    /// <returns>The signal's payload as delivered (JSON from the HTTP API), or null when the timeout passed first.</returns>
    /// <exception cref="JobSuspendedException">The job must wait: the attempt ends here.</exception>
    /// <exception cref="OperationCanceledException">The attempt lost the job's lease, or the job's cancellation was requested.</exception>
    public ValueTask<ReadOnlyMemory<byte>?> WaitForSignalAsync(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var wait = TrackedAsync(JobSignal.WaitStepName(name), WaitForSignalCoreAsync(name, timeout, cancellationToken));
        return wait.IsCompleted ? wait : new ValueTask<ReadOnlyMemory<byte>?>(Pending(wait.AsTask()));
    }

    private async ValueTask<ReadOnlyMemory<byte>?> WaitForSignalCoreAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        JobSignal.Validate(name, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var stepName = JobSignal.StepName(name);
        var steps = await StepsAsync().ConfigureAwait(false);
        if (steps.TryGetValue(stepName, out var stored))
        {
            // An empty record is the timeout's. Typed, so that it is null: 'null : stored' would be an empty memory.
            return stored.IsEmpty ? (ReadOnlyMemory<byte>?)null : stored;
        }

        // The wait's deadline is itself a durable step: fixed by the first attempt that reaches the wait, at the store's
        // precision, so that it has passed here exactly when it has for the store's park.
        var now = _timeProvider.GetUtcNow();
        var until = FromDeadlineStep(await RunStepCoreAsync(JobSignal.WaitStepName(name), _ => ValueTask.FromResult(ToDeadlineStep(now + timeout))).ConfigureAwait(false));
        if (until > now)
        {
            AddSignalWait(name, until);
            throw new JobSuspendedException($"Job {JobId} waits for signal '{name}' until {InstantText.Format(until)}; the attempt ends here and the job runs again when the signal arrives or the time passes.");
        }

        if (_store is not IJobSignalStore store)
        {
            steps[stepName] = ReadOnlyMemory<byte>.Empty;
            return null;
        }

        // The deadline passed: the store decides, atomically, between a signal that came meanwhile and the timeout.
        var wait = await store.AwaitSignalAsync(JobId, Job.LeaseToken, [name], until, recordTimeout: true, JobSignal.WaitReason(name, until), cancellationToken).ConfigureAwait(false);
        switch (wait.Outcome)
        {
            case JobSignalWaitOutcome.Delivered:
                steps[stepName] = wait.Payload;
                return wait.Payload;
            case JobSignalWaitOutcome.TimedOut:
                steps[stepName] = ReadOnlyMemory<byte>.Empty;
                return null;
            case JobSignalWaitOutcome.CancelRequested:
                // Stopped as a cancel request the server heard of would stop it, so that the attempt ends cancelled however
                // the handler goes on (this wait beside another that suspends, or awaited on the job's last attempt), not failed.
                _run.Stop(Server.StopReason.CancelRequested);
                throw new OperationCanceledException($"Job {JobId}'s cancellation was requested while it waited for signal '{name}'.", CancellationToken);
            default:
                // Another attempt may hold the job now: stopped as a lease the server lost, nothing of this attempt is
                // recorded however the handler goes on, as for any lost lease (not a failure on the job's last attempt).
                _run.Stop(Server.StopReason.LeaseLost);
                throw new OperationCanceledException($"Job {JobId} lost its lease before its wait for signal '{name}' was decided; another attempt may be running it.", CancellationToken);
        }
    }

    /// <summary>
    /// <see cref="WaitForSignalAsync(string, TimeSpan, CancellationToken)"/> for a JSON payload, read with the payload
    /// serializer's settings (<c>ConveyorJsonOptions</c>, whose <c>TypeInfoResolver</c> may be your source-generated
    /// <c>JsonSerializerContext</c>). Returns default (null for a reference or nullable type) when the timeout passed first:
    /// wait for a nullable value type (<c>int?</c>) to tell the timeout from a zero. A signal whose payload is JSON
    /// <c>null</c> (sent over HTTP with an empty body) reads as null as well: where such a signal must count, wait with
    /// <see cref="WaitForSignalAsync(string, TimeSpan, CancellationToken)"/>, which is null only after the timeout.
    /// </summary>
    public async ValueTask<T?> WaitForSignalAsync<T>(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var payload = await WaitForSignalAsync(name, timeout, cancellationToken).ConfigureAwait(false);
        if (payload is not { } bytes)
        {
            return default;
        }

        var typeInfo = (JsonTypeInfo<T>)JsonOptions.GetTypeInfo(typeof(T));
        return JsonSerializer.Deserialize(bytes.Span, typeInfo);
    }

    /// <summary>
    /// A durable sleep until <paramref name="until"/>: returns at once if that time has come; otherwise the attempt ends
    /// with a <see cref="JobSuspendedException"/> (let it through), the job waits in state scheduled without an attempt
    /// counted or a worker slot held (its reason "Sleeping until …" shown on the job), and the handler runs again from the
    /// start at that time, its finished steps skipped, when this call returns. Times are kept to the microsecond, as the
    /// stores keep them. Sleeps started together wake the job at the earliest; beside a wait for a signal (not awaited),
    /// the signal still resumes the job before its time.
    /// </summary>
    /// <exception cref="JobSuspendedException">The time has not come: the attempt ends here.</exception>
    public ValueTask SleepUntilAsync(DateTimeOffset until)
    {
        // The store keeps the wake-up time to the microsecond: the sleep is over when it is by the store's measure.
        until = DeadlineSteps.AtStorePrecision(until);
        if (until <= _timeProvider.GetUtcNow())
        {
            return ValueTask.CompletedTask;
        }

        var reason = string.Create(CultureInfo.InvariantCulture, $"Sleeping until {until.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}.");
        lock (_waitsLock)
        {
            // Sleeps started together (not awaited one by one) may end on different threads: the earliest wakes the job.
            if (SleepRequest is not { } earlier || until < earlier.Until)
            {
                SleepRequest = new JobSnoozeRequest(until, reason, "sleep");
            }
        }

        throw new JobSuspendedException($"Job {JobId} sleeps until {InstantText.Format(until)}; the attempt ends here and the job runs again then.");
    }

    /// <summary>
    /// A durable sleep of <paramref name="duration"/> from the first attempt that reaches it (the wake-up time is a step
    /// named <paramref name="name"/>, so a later attempt sleeps until the same time): see <see cref="SleepUntilAsync"/>.
    /// </summary>
    /// <param name="name">
    /// Names this sleep within the job (with a step name's rules; sleeps and steps have names of their own), so that each
    /// sleep keeps its own wake-up time: a second sleep of the same name in one attempt is an <see cref="InvalidOperationException"/>.
    /// </param>
    /// <param name="duration">How long to sleep, from the first attempt that reaches this call.</param>
    /// <exception cref="SkipRetryException">The name breaks a step name's rules: the job fails without retrying.</exception>
    public ValueTask SleepAsync(string name, TimeSpan duration)
    {
        var sleep = TrackedAsync(DeadlineSteps.SleepStepName(name), SleepCoreAsync(name, duration));
        return sleep.IsCompleted ? sleep : new ValueTask(Pending(sleep.AsTask()));
    }

    private async ValueTask SleepCoreAsync(string name, TimeSpan duration)
    {
        ValidateStepName(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        var now = _timeProvider.GetUtcNow();
        var until = FromDeadlineStep(await RunOwnStepAsync(DeadlineSteps.SleepStepName(name), name, "Sleep", _ => ValueTask.FromResult(ToDeadlineStep(now + duration))).ConfigureAwait(false));
        await SleepUntilAsync(until).ConfigureAwait(false);
    }

    /// <summary>Adds a wait to the attempt's: the job parks until the earliest deadline, resumed by any of the signals.</summary>
    private void AddSignalWait(string name, DateTimeOffset until)
    {
        // Waits started together (Task.WhenAny) may finish on different threads.
        lock (_waitsLock)
        {
            SignalWaitRequest = SignalWaitRequest is not { } waits ? new JobSignalWaitRequest([name], until)
                : waits.Names.Contains(name, StringComparer.Ordinal) ? waits
                : new JobSignalWaitRequest([.. waits.Names, name], until < waits.Until ? until : waits.Until);
        }
    }

    private static ReadOnlyMemory<byte> ToDeadlineStep(DateTimeOffset until) => DeadlineSteps.Write(until);

    private static DateTimeOffset FromDeadlineStep(ReadOnlyMemory<byte> stored) =>
        DeadlineSteps.TryRead(stored.Span, out var until) ? until : throw new FormatException($"A stored deadline step holds '{Encoding.ASCII.GetString(stored.Span)}', not UTC ticks.");
}
