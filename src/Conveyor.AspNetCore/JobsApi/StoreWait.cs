namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// One Jobs API request's bound on its wait for the store (<see cref="StoreTimeoutEndpointFilter"/>), set as a request
/// feature. Its clock does not run while the request's body arrives (<see cref="RequestBodyReader"/>): a slow upload is
/// Kestrel's to bound (408), not a store that does not answer. For a request with a body it starts once the body has
/// been read (an endpoint that never reads the body it was sent is not bounded: none of the API's reads a body it does
/// not need, and none needs one it does not read).
/// </summary>
internal sealed class StoreWait : IDisposable
{
    private readonly CancellationTokenSource _bounded = new();
    private readonly TimeSpan _timeout;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _aborted;
    private volatile bool _expired;

    /// <summary>A wait of <paramref name="timeout"/>; with <paramref name="bodyFirst"/> (the request has a body) the clock starts once the body has been read.</summary>
    public StoreWait(CancellationToken requestAborted, TimeSpan timeout, TimeProvider timeProvider, bool bodyFirst)
    {
        RequestAborted = requestAborted;
        _timeout = timeout;
        _timer = timeProvider.CreateTimer(static s => ((StoreWait)s!).Expire(), this, bodyFirst ? Timeout.InfiniteTimeSpan : timeout, Timeout.InfiniteTimeSpan);
        _aborted = requestAborted.UnsafeRegister(static s => ((StoreWait)s!).Cancel(), this);
    }

    /// <summary>The request's own token: the client went away or the server is stopping.</summary>
    public CancellationToken RequestAborted { get; }

    /// <summary>Cancelled when the request is aborted or its wait for the store has lasted the timeout.</summary>
    public CancellationToken Token => _bounded.Token;

    /// <summary>True once the timeout has passed.</summary>
    public bool Expired => _expired;

    public void PauseForBody() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    public void ResumeAfterBody()
    {
        if (!_expired)
        {
            _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        // The registration first: its Dispose waits for a callback that is running.
        _aborted.Dispose();
        _timer.Dispose();
        _bounded.Dispose();
    }

    private void Expire()
    {
        _expired = true;
        Cancel();
    }

    private void Cancel()
    {
        try
        {
            _bounded.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The timer fired as the request ended.
        }
    }
}
