namespace Conveyor.Storage;

/// <summary>
/// An optional ability of a store: pushing cancellation requests for running jobs to every server at once (Redis
/// pub/sub, PostgreSQL NOTIFY), so a handler's token is cancelled within milliseconds. Without it, servers learn of
/// cancellations from their next lease extension (a third of the lease, about 1.3 s by default).
/// </summary>
public interface IJobCancellationSignal
{
    /// <summary>
    /// Calls <paramref name="onCancelRequested"/> with the id of every job whose cancellation is requested while it is
    /// active, from any process. The callback must be quick and must not throw. Dispose the result to stop.
    /// </summary>
    IDisposable SubscribeToCancellations(Action<string> onCancelRequested);
}
