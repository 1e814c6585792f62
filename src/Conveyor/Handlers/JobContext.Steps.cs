using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>Durable steps: named parts of a handler whose results are stored on the job, so a retry skips them.</summary>
public sealed partial class JobContext
{
    // Built on first use only: a context without ConveyorJsonOptions in its services (a handler's unit test) gets the
    // defaults with the same resolver the payload serializer would pick, and a Native AOT app never builds it.
    private static JsonSerializerOptions? _defaultJsonOptions;
    private readonly Lock _stepsLock = new();
    private ConcurrentDictionary<string, ReadOnlyMemory<byte>>? _steps;
    private Task<ConcurrentDictionary<string, ReadOnlyMemory<byte>>>? _stepsRead;
    private HashSet<string>? _usedStepNames;

    /// <summary>
    /// Runs a durable step once per job: the first attempt that reaches it runs <paramref name="step"/> and stores
    /// what it returns under <paramref name="name"/> on the job; a later attempt of the same job (after a crash, a
    /// failure or a snooze) gets the stored result back without running it. Use it for side effects that must not
    /// happen twice (charge a card, send an e-mail) in a handler that may be retried, and make the step itself
    /// idempotent where it can be: a crash after the side effect and before the store still runs it again.
    /// </summary>
    /// <param name="name">
    /// Names the step within the job: 1 to <see cref="JobStep.MaxNameLength"/> characters, not beginning with '$', and
    /// used once per attempt (a loop names each round's step apart, e.g. <c>$"send:{i}"</c>).
    /// </param>
    /// <param name="step">The step's work; its result is at most <see cref="JobStep.MaxResultBytes"/>.</param>
    /// <returns>The step's result, run now or stored by an earlier attempt.</returns>
    /// <exception cref="SkipRetryException">
    /// The name breaks the rules above (the step does not run) or the result is too large: a mistake no retry can fix,
    /// so the job fails without retrying (the <see cref="ArgumentException"/> that says why is its inner exception).
    /// </exception>
    /// <exception cref="InvalidOperationException">This attempt already ran (or skipped) a step of this name.</exception>
    /// <exception cref="OperationCanceledException">
    /// The attempt was stopped, or its lease ended, before the step began (the step does not run), or the attempt lost
    /// the job's lease before the result was stored.
    /// </exception>
    public ValueTask<ReadOnlyMemory<byte>> RunStepAsync(string name, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> step)
    {
        ValidateStepName(name);
        ArgumentNullException.ThrowIfNull(step);
        return RunOwnStepAsync(name, name, "Step", step);
    }

    /// <summary>
    /// A step name of the handler's own: Conveyor keeps names that begin with '$' for signals, waits and sleeps. A bad
    /// name is a programming error that no retry can fix: it fails the job at once (<see cref="SkipRetryException"/>).
    /// </summary>
    private static void ValidateStepName(string name)
    {
        try
        {
            JobStep.Validate(name, 0);
            if (name[0] == JobSignal.ReservedStepPrefix)
            {
                throw new ArgumentException($"Step names that begin with '{JobSignal.ReservedStepPrefix}' are Conveyor's own (signals, waits, sleeps); '{name}' is one.", nameof(name));
            }
        }
        catch (ArgumentException e)
        {
            throw new SkipRetryException(e.Message + " The job fails without retrying: no retry can fix a step's name.", e);
        }
    }

    /// <summary>
    /// A step (or sleep) named by the handler: refused if the attempt already used <paramref name="stepName"/>, since a
    /// second step of that name would silently return the first one's result and never run. A step whose work threw
    /// gives its name back, so a handler may try it again within the attempt.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>> RunOwnStepAsync(string stepName, string name, string kind, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> step)
    {
        // Steps and sleeps started together may give their names back on different threads.
        bool added;
        lock (_stepsLock)
        {
            added = (_usedStepNames ??= new HashSet<string>(StringComparer.Ordinal)).Add(stepName);
        }

        if (!added)
        {
            throw new InvalidOperationException(
                $"{kind} '{name}' was already used in this attempt of job {JobId}: {kind.ToLowerInvariant()} names must be unique within the job, or the second one returns the first one's result without running (name each round of a loop apart, e.g. \"{name}:1\").");
        }

        try
        {
            return await RunStepCoreAsync(stepName, step).ConfigureAwait(false);
        }
        catch
        {
            lock (_stepsLock)
            {
                _usedStepNames.Remove(stepName);
            }

            throw;
        }
    }

    /// <summary>The step, for the handler's names and Conveyor's own ('$signal:', '$wait:', '$sleep:').</summary>
    private async ValueTask<ReadOnlyMemory<byte>> RunStepCoreAsync(string name, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        ValidateStep(name, 0);
        var steps = await StepsAsync().ConfigureAwait(false);
        if (steps.TryGetValue(name, out var stored))
        {
            return stored;
        }

        // A step does not begin once the attempt is stopped, nor past the end of the lease as this server knows it (the
        // process was paused beyond it, or could not reach the store to extend it): the job may be running on another
        // server by now, and the step's side effect would happen twice, side by side, before the store refused its result.
        CancellationToken.ThrowIfCancellationRequested();
        if (_timeProvider.GetUtcNow() > _run.LeaseHeldUntil)
        {
            _run.Stop(Server.StopReason.LeaseLost);
            throw new OperationCanceledException($"Job {JobId} lost its lease before step '{name}' began (it ended at {InstantText.Format(_run.LeaseHeldUntil)}); another attempt may be running it.", CancellationToken);
        }

        var result = await step(CancellationToken).ConfigureAwait(false);
        ValidateStep(name, result.Length);
        // A handler's step is stored again while the store is away: its side effect is done. Conveyor's own steps (a
        // wait's or a sleep's deadline) have none, and a store that does not take one fails the attempt at once, as the
        // waits beside it expect (WaitsTogetherTests).
        var done = new JobStep(name, Attempt, result, _timeProvider.GetUtcNow());
        if (_store is IJobStepStore store
            && !await (name[0] == JobSignal.ReservedStepPrefix
                ? store.SaveStepAsync(JobId, Job.LeaseToken, done, CancellationToken.None)
                : WhileTheStoreIsAwayAsync(() => store.SaveStepAsync(JobId, Job.LeaseToken, done, CancellationToken.None))).ConfigureAwait(false))
        {
            // As for a wait answered so (JobContext.Signals): nothing more of this attempt is recorded.
            _run.Stop(Server.StopReason.LeaseLost);
            throw new OperationCanceledException($"Job {JobId} lost its lease before step '{name}' was stored; another attempt may be running it.", CancellationToken);
        }

        steps[name] = result;
        return result;
    }

    /// <summary>A step the store cannot keep (its name too long, its result too large) fails the job at once: a retry would run it again to the same end.</summary>
    private static void ValidateStep(string name, int resultLength)
    {
        try
        {
            JobStep.Validate(name, resultLength);
        }
        catch (ArgumentException e)
        {
            throw new SkipRetryException(e.Message + " The job fails without retrying: no retry can fix it.", e);
        }
    }

    /// <summary>
    /// <see cref="RunStepAsync(string, Func{CancellationToken, ValueTask{ReadOnlyMemory{byte}}})"/> for a step whose
    /// result is stored as JSON with the payload serializer's settings (<c>ConveyorJsonOptions</c>).
    /// </summary>
    public async ValueTask<TResult> RunStepAsync<TResult>(string name, Func<CancellationToken, ValueTask<TResult>> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var typeInfo = (JsonTypeInfo<TResult>)JsonOptions.GetTypeInfo(typeof(TResult));
        (bool Ran, TResult? Value) now = default;
        var stored = await RunStepAsync(name, async cancellationToken =>
        {
            now = (true, await step(cancellationToken).ConfigureAwait(false));
            return new ReadOnlyMemory<byte>(JsonSerializer.SerializeToUtf8Bytes(now.Value, typeInfo));
        }).ConfigureAwait(false);
        return now.Ran ? now.Value! : JsonSerializer.Deserialize(stored.Span, typeInfo)!;
    }

    /// <summary>A durable step with no result: runs once per job, however many attempts reach it.</summary>
    public async ValueTask RunStepAsync(string name, Func<CancellationToken, ValueTask> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        await RunStepAsync(name, async cancellationToken =>
        {
            await step(cancellationToken).ConfigureAwait(false);
            return ReadOnlyMemory<byte>.Empty;
        }).ConfigureAwait(false);
    }

    private JsonSerializerOptions JsonOptions =>
        Services.GetService<IOptions<ConveyorJsonOptions>>()?.Value.SerializerOptions
        ?? (_defaultJsonOptions ??= new JobPayloadSerializer(Options.Create(new ConveyorJsonOptions())).Options);

    /// <summary>Starts the attempt with these steps already stored (Conveyor.Testing's finished steps and delivered signals).</summary>
    internal void SeedSteps(IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> steps) =>
        _steps = new ConcurrentDictionary<string, ReadOnlyMemory<byte>>(steps, StringComparer.Ordinal);

    /// <summary>
    /// The job's stored steps, read once per attempt at its first step; a context without a store keeps its own. Waits
    /// started together (<c>Task.WhenAny</c>) share one read and may finish on different threads.
    /// </summary>
    private ValueTask<ConcurrentDictionary<string, ReadOnlyMemory<byte>>> StepsAsync()
    {
        if (_steps is { } steps)
        {
            return ValueTask.FromResult(steps);
        }

        lock (_stepsLock)
        {
            // A read that failed (the store out of reach) is tried again by the next step.
            if (_stepsRead is null || _stepsRead.IsFaulted || _stepsRead.IsCanceled)
            {
                _stepsRead = ReadStepsAsync();
            }

            return new ValueTask<ConcurrentDictionary<string, ReadOnlyMemory<byte>>>(_stepsRead);
        }
    }

    /// <summary>
    /// A store call of the steps, tried again while the store is away and this server still holds the job's lease as it
    /// knew it at the first failure: a store blip shorter than a lease must not cost the attempt, and with it a step whose
    /// work is done (an outside run: a PostgreSQL restart of 1.6 s failed a job without retries for good after its step's
    /// side effect, and a job with retries ran that step again). Once the next try would begin past that lease's end, the
    /// store's error ends the attempt, as before: the job may be running elsewhere, and a store that refuses this call
    /// while it takes the lease's renewals must not hold the attempt for good.
    /// </summary>
    private async ValueTask<T> WhileTheStoreIsAwayAsync<T>(Func<ValueTask<T>> call)
    {
        var pause = StoreRetryFirstPause;
        DateTimeOffset? leaseEnd = null;
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (JobStoreUnavailableException) when (!CancellationToken.IsCancellationRequested)
            {
                leaseEnd ??= _run.LeaseHeldUntil;
                if (_timeProvider.GetUtcNow() + pause >= leaseEnd)
                {
                    throw;
                }

                await Task.Delay(pause, _timeProvider, CancellationToken).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, StoreRetryLongestPause.Ticks));
            }
        }
    }

    private static readonly TimeSpan StoreRetryFirstPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StoreRetryLongestPause = TimeSpan.FromSeconds(1);

    private async Task<ConcurrentDictionary<string, ReadOnlyMemory<byte>>> ReadStepsAsync()
    {
        var steps = new ConcurrentDictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        if (_store is IJobStepStore store)
        {
            foreach (var stored in await WhileTheStoreIsAwayAsync(() => store.GetStepsAsync(Tenant, JobId, CancellationToken)).ConfigureAwait(false) ?? [])
            {
                steps[stored.Name] = stored.Result;
            }
        }

        return _steps = steps;
    }
}
