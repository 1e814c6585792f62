using System.Runtime.ExceptionServices;

namespace Conveyor;

/// <summary>
/// The waits and sleeps an attempt started: which still read or write the job's steps, and which failed, so that an
/// attempt that ends waiting parks for every one of them or not at all.
/// </summary>
public sealed partial class JobContext
{
    /// <summary>How long the waits and sleeps a suspended handler started beside the one it ended on may still take.</summary>
    internal static readonly TimeSpan WaitsBound = TimeSpan.FromSeconds(5);

    private readonly Lock _waitsLock = new();
    private List<Task>? _pendingWaits;

    // Per wait or sleep (its deadline step's name): null once one of that name returned or suspended, else the failure.
    private Dictionary<string, Exception?>? _waitOutcomes;

    /// <summary>
    /// A wait or sleep still reading or writing the job's steps: the attempt lets it finish before the job parks, so that
    /// one started beside the one the handler ended on (Task.WhenAny, or not awaited) is one the park waits for too.
    /// </summary>
    private T Pending<T>(T task)
        where T : Task
    {
        lock (_waitsLock)
        {
            (_pendingWaits ??= []).Add(task);
        }

        return task;
    }

    /// <summary>Keeps how the wait or sleep whose deadline step is <paramref name="key"/> ended.</summary>
    private async ValueTask<T> TrackedAsync<T>(string key, ValueTask<T> wait)
    {
        try
        {
            var result = await wait.ConfigureAwait(false);
            WaitEnded(key, null);
            return result;
        }
        catch (Exception e)
        {
            WaitEnded(key, e);
            throw;
        }
    }

    /// <inheritdoc cref="TrackedAsync{T}(string, ValueTask{T})"/>
    private async ValueTask TrackedAsync(string key, ValueTask wait)
    {
        try
        {
            await wait.ConfigureAwait(false);
            WaitEnded(key, null);
        }
        catch (Exception e)
        {
            WaitEnded(key, e);
            throw;
        }
    }

    private void WaitEnded(string key, Exception? exception)
    {
        lock (_waitsLock)
        {
            var outcomes = _waitOutcomes ??= new Dictionary<string, Exception?>(StringComparer.Ordinal);
            if (exception is null or JobSuspendedException)
            {
                // Returned or suspended: in effect, even if an earlier call of the same name failed (a handler that tried again).
                outcomes[key] = null;
            }
            else
            {
                outcomes.TryAdd(key, exception);
            }
        }
    }

    /// <summary>
    /// Called where a handler ended waiting (<see cref="JobSuspendedException"/>): lets every wait and sleep it started
    /// finish, for at most <see cref="WaitsBound"/>, then throws the failure of one that failed (the store out of reach, a
    /// lost lease, a bad name) and was not started again with success, so that the attempt ends as that failure and is
    /// retried, as a store failure the handler awaited would be, instead of parking without that wait. A wait that has
    /// not finished by then fails the attempt as well (<see cref="TimeoutException"/>).
    /// </summary>
    internal async ValueTask ThrowIfAWaitFailedAsync()
    {
        Task finished;
        lock (_waitsLock)
        {
            finished = _pendingWaits is { Count: > 0 } pending ? Task.WhenAll(pending) : Task.CompletedTask;
        }

        if (!finished.IsCompleted)
        {
            // No token: the job's timeout neither cuts this short nor fails the attempt. The bound alone keeps a store
            // that answers nothing at all from holding the slot.
            await finished.WaitAsync(WaitsBound, _timeProvider, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!finished.IsCompleted)
            {
                throw new TimeoutException($"A wait or sleep job {JobId} started beside the one it ended on did not store its deadline within {WaitsBound.TotalSeconds:0} s; the attempt is retried rather than parked without it.");
            }
        }

        Exception? lost;
        lock (_waitsLock)
        {
            lost = _waitOutcomes?.Values.FirstOrDefault(static failure => failure is not null);
        }

        if (lost is not null)
        {
            ExceptionDispatchInfo.Throw(lost);
        }
    }
}
