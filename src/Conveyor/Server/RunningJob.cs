using Conveyor.Storage;

namespace Conveyor.Server;

/// <summary>A leased job from the moment it is fetched until its acknowledgement is stored.</summary>
internal sealed class RunningJob(LeasedJob job)
{
    // A timer cannot be set further out than uint.MaxValue - 1 milliseconds (about 49.7 days): a longer limit is
    // reached in steps, each set when the one before fires, so that it is measured by the timer's clock throughout.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly CancellationTokenSource _cancellation = new();
    private StopReason _limitReason;
    private TimeSpan _limitLeftAfterStep;
    private int _reason;
    private ITimer? _limitTimer;
    private string? _idempotencyKey;

    public LeasedJob Job { get; } = job;

    public CancellationToken Token => _cancellation.Token;

    public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

    /// <summary>
    /// Set when the store parked the job for a signal in the attempt's last call, to when the park ends: its lease ended
    /// there, nothing is left to expire.
    /// </summary>
    public DateTimeOffset? ParkedUntil { get; set; }

    /// <summary>
    /// The idempotency record this attempt holds (owned by its lease) from its begin until its acknowledgement is
    /// stored, or null: the lease extender moves the record's expiry with the lease, and the acknowledgement settles it.
    /// </summary>
    public string? IdempotencyKey
    {
        get => Volatile.Read(ref _idempotencyKey);
        private set => Volatile.Write(ref _idempotencyKey, value);
    }

    /// <summary>How long the record of <see cref="IdempotencyKey"/> is kept once done.</summary>
    public TimeSpan IdempotencyKeepDoneFor { get; private set; }

    public void HoldIdempotencyKey(string key, TimeSpan keepDoneFor)
    {
        IdempotencyKeepDoneFor = keepDoneFor;
        IdempotencyKey = key;
    }

    /// <summary>
    /// Until when this server knows its lease holds: the lease's expiry, then, after each extension the store granted,
    /// the extension asked for counted from when it was asked. An attempt that ends past it may have lost its job to
    /// the recoverer (the process was paused, or could not reach the store to extend).
    /// </summary>
    public DateTimeOffset LeaseHeldUntil
    {
        get => new(Interlocked.Read(ref _leaseHeldUntilTicks), TimeSpan.Zero);
    }

    private long _leaseHeldUntilTicks = job.LeaseExpiresAt.UtcTicks;

    /// <summary>Records an extension of the lease to <paramref name="until"/>.</summary>
    public void LeaseExtended(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        long seen;
        while ((seen = Interlocked.Read(ref _leaseHeldUntilTicks)) < ticks && Interlocked.CompareExchange(ref _leaseHeldUntilTicks, ticks, seen) != seen)
        {
        }
    }

    private long _bufferedAt;
    private int _leftBuffer;

    /// <summary>When it was written to the buffer the workers read (a <see cref="TimeProvider"/> timestamp); 0 before.</summary>
    public long BufferedAt
    {
        get => Volatile.Read(ref _bufferedAt);
        set => Volatile.Write(ref _bufferedAt, value);
    }

    /// <summary>In the buffer, and neither taken by a worker nor handed back yet.</summary>
    public bool WaitsInBuffer => BufferedAt != 0 && Volatile.Read(ref _leftBuffer) == 0;

    /// <summary>
    /// Claims a job that waits in the buffer: for the worker that read it, or for a hand-back of it unstarted (one leased
    /// ahead that waited too long, or at shutdown). The first caller wins; a worker that loses frees the slot and goes on.
    /// </summary>
    public bool TryLeaveBuffer() => Interlocked.Exchange(ref _leftBuffer, 1) == 0;

    /// <summary>
    /// Set by the fetcher when a rate limit gave the job a permit: its start used a turn of the limit, which a hand-back
    /// would waste (asked again, the job would wait for a turn after those given meanwhile, a whole period under a slow
    /// limit), so it waits for a worker of this server instead (<see cref="LeasedAheadHandBack"/>).
    /// </summary>
    public bool HoldsRatePermit
    {
        get => Volatile.Read(ref _holdsRatePermit);
        set => Volatile.Write(ref _holdsRatePermit, value);
    }

    private bool _holdsRatePermit;

    private static readonly TaskCompletionSource SettledAlready = SettledAlreadySource();

    // Null until asked for or settled; SettledAlready once settled before anyone asked.
    private TaskCompletionSource? _endSettled;

    /// <summary>
    /// Completes when the store holds the attempt's end (<see cref="EndSettled"/>): its acknowledgement stored
    /// (<see cref="AcknowledgementBatcher"/>), its park recorded, or nothing left to store; never, if the store does not
    /// take it (a refused acknowledgement): wait for it with a bound.
    /// </summary>
    public Task WhenEndSettled
    {
        get
        {
            var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return (Interlocked.CompareExchange(ref _endSettled, source, null) ?? source).Task;
        }
    }

    /// <summary>The store holds the attempt's end, or there is nothing more to store for it.</summary>
    public void EndSettled() => Interlocked.Exchange(ref _endSettled, SettledAlready)?.TrySetResult();

    private static TaskCompletionSource SettledAlreadySource()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    /// <summary>True once a worker began running the handler (jobs still in the buffer are released at shutdown without running).</summary>
    public bool Started { get; set; }

    /// <summary>
    /// Set by the fetcher when a rate limit refused the job's start: it does not run, and is handed back to the head of
    /// its queue when every limit that refused it paces the queue (Release), else snoozed until then for that reason.
    /// </summary>
    public (DateTimeOffset Until, string Reason, bool Release)? RateLimited { get; private set; }

    /// <summary>
    /// Set by the fetcher when a rate limit's turn for the job is a few milliseconds away: its worker waits until then
    /// and asks again (<see cref="Limits.RateLimitGate"/>), which starts it or holds it (<see cref="RateLimited"/>).
    /// </summary>
    public (DateTimeOffset Until, Func<CancellationToken, ValueTask> AskAgain)? TurnWait { get; private set; }

    /// <summary>
    /// Has the worker wait until <paramref name="until"/> and then call <paramref name="askAgain"/>; a job two limits
    /// refused for a moment waits for the later turn and asks both again, so that neither permit is skipped.
    /// </summary>
    public void WaitForTurn(DateTimeOffset until, Func<CancellationToken, ValueTask> askAgain)
    {
        if (TurnWait is not { } earlier)
        {
            TurnWait = (until, askAgain);
            return;
        }

        var first = earlier.AskAgain;
        TurnWait = (until > earlier.Until ? until : earlier.Until, async cancellationToken =>
        {
            await first(cancellationToken).ConfigureAwait(false);
            await askAgain(cancellationToken).ConfigureAwait(false);
        });
    }

    public void HoldForRateLimit(DateTimeOffset until, string reason, bool release)
    {
        var held = RateLimited;
        var releases = release && held is not { Release: false };
        RateLimited = held is { } h && h.Until >= until ? h with { Release = releases } : (until, reason, releases);
    }

    /// <summary>
    /// Cancels the handler's token for <paramref name="reason"/>, unless another reason came first; a lost lease
    /// overrides any other, because then nothing may be recorded (another server may be running the job).
    /// </summary>
    public void Stop(StopReason reason)
    {
        var first = reason == StopReason.LeaseLost
            ? Interlocked.Exchange(ref _reason, (int)reason) == (int)StopReason.None
            : Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None) == (int)StopReason.None;
        if (first)
        {
            _cancellation.Cancel();
        }
    }

    /// <summary>
    /// True once the handler returned: what is left is to decide and store the acknowledgement. Such a run keeps its
    /// lease extended (its acknowledgement is recorded if the lease holds) and is not handed back at shutdown.
    /// </summary>
    public bool HandlerReturned
    {
        get => Volatile.Read(ref _handlerReturned);
        set => Volatile.Write(ref _handlerReturned, value);
    }

    private bool _handlerReturned;
    private int _outcomeClaimed;

    /// <summary>
    /// Claims the right to send this attempt's acknowledgement: the worker's outcome, or the shutdown's hand-back of a
    /// handler that ignores its token. The first caller wins; the other sends nothing, so one lease never gets two.
    /// </summary>
    public bool TryClaimOutcome() => Interlocked.Exchange(ref _outcomeClaimed, 1) == 0;

    /// <summary>Arms the timeout and the deadline: whichever comes first stops the handler, with that reason.</summary>
    public void ArmLimits(TimeProvider timeProvider)
    {
        var now = timeProvider.GetUtcNow();
        TimeSpan? due = Job.Timeout;
        var reason = StopReason.Timeout;
        if (Job.Deadline is { } deadline && (due is null || deadline - now < due))
        {
            due = deadline - now;
            reason = StopReason.Deadline;
        }

        if (due is not { } delay)
        {
            return;
        }

        // NextStep runs before the timer exists: a limit already reached fires at once, possibly before _limitTimer is
        // assigned, and LimitTimerFired then needs no timer (nothing is left after the step).
        _limitReason = reason;
        _limitTimer = timeProvider.CreateTimer(LimitTimerFired, null, NextStep(delay), Timeout.InfiniteTimeSpan);
    }

    public void DisarmLimits() => _limitTimer?.Dispose();

    private TimeSpan NextStep(TimeSpan left)
    {
        var step = left < TimeSpan.Zero ? TimeSpan.Zero : left > LongestTimer ? LongestTimer : left;
        _limitLeftAfterStep = left - step;
        return step;
    }

    private void LimitTimerFired(object? state)
    {
        if (_limitLeftAfterStep > TimeSpan.Zero)
        {
            // Change after DisarmLimits does nothing: a disposed timer stays stopped.
            _limitTimer?.Change(NextStep(_limitLeftAfterStep), Timeout.InfiniteTimeSpan);
            return;
        }

        Stop(_limitReason);
    }
}
