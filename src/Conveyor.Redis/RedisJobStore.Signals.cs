using System.Collections.Immutable;
using StackExchange.Redis;

namespace Conveyor.Redis;

public sealed partial class RedisJobStore
{
    private readonly Lock _signalLock = new();
    private TaskCompletionSource _jobsReady = NewSignal();
    private bool _signalledSinceDequeue;
    private Action<RedisChannel, RedisValue>? _notifyHandler;
    private Action<RedisChannel, RedisValue>? _cancelHandler;
    private bool _notifySubscribed;
    private bool _cancelSubscribed;
    private ImmutableArray<Action<string>> _cancellationHandlers = [];

    /// <inheritdoc />
    /// <remarks>
    /// Woken by this instance's own enqueues, promotions and releases, and, through Redis pub/sub on
    /// <c>{prefix}:notify</c>, by those of every other process. A signal that arrives after the last dequeue
    /// began and before this call is not lost: the call returns at once.
    /// </remarks>
    public async ValueTask<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_signalLock)
        {
            if (_signalledSinceDequeue)
            {
                _signalledSinceDequeue = false;
                return true;
            }

            signal = _jobsReady.Task;
        }

        // A timeout or a cancel is not thrown (IJobQueueStore.WaitForJobsAsync).
        await signal.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!signal.IsCompleted)
        {
            return false;
        }

        lock (_signalLock)
        {
            _signalledSinceDequeue = false;
        }

        return true;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Redis pub/sub on <c>{prefix}:cancel</c>: cancel.lua publishes the job id when it records the request. The
    /// subscription is made by <see cref="InitializeAsync"/>; callbacks registered before it start with it. They run
    /// on a Redis client thread.
    /// </remarks>
    public IDisposable SubscribeToCancellations(Action<string> onCancelRequested)
    {
        ArgumentNullException.ThrowIfNull(onCancelRequested);
        lock (_signalLock)
        {
            _cancellationHandlers = _cancellationHandlers.Add(onCancelRequested);
        }

        return new CancellationSubscription(this, onCancelRequested);
    }

    private void RemoveCancellationHandler(Action<string> handler)
    {
        lock (_signalLock)
        {
            _cancellationHandlers = _cancellationHandlers.Remove(handler);
        }
    }

    /// <summary>Wakes every waiting <see cref="WaitForJobsAsync"/> of this instance.</summary>
    private void SignalJobsReady()
    {
        TaskCompletionSource woken;
        lock (_signalLock)
        {
            _signalledSinceDequeue = true;
            woken = _jobsReady;
            _jobsReady = NewSignal();
        }

        woken.TrySetResult();
    }

    private void ResetWakeUp()
    {
        lock (_signalLock)
        {
            _signalledSinceDequeue = false;
        }
    }

    private async Task SubscribeAsync()
    {
        // Each channel once, and again after a failed try: a transient failure between the two must not leave the
        // cancel channel unsubscribed for good (cancellations would then only arrive with the lease extension).
        if (_cancelSubscribed)
        {
            return;
        }

        var subscriber = _connection!.GetSubscriber();
        _notifyHandler ??= (_, message) =>
        {
            // On a Cluster, a finish that wrote an outbox entry (flow.lib.lua): deliver it now.
            if (message == OutboxNotice)
            {
                DeliverOutboxesSoon();
            }
            else if (message != _instanceId)
            {
                SignalJobsReady();
            }
        };
        _cancelHandler ??= (_, message) =>
        {
            var jobId = (string?)message;
            if (string.IsNullOrEmpty(jobId))
            {
                return;
            }

            foreach (var handler in _cancellationHandlers)
            {
                handler(jobId);
            }
        };
        if (!_notifySubscribed)
        {
            await subscriber.SubscribeAsync(_keys.NotifyChannel, _notifyHandler).ConfigureAwait(false);
            _notifySubscribed = true;
        }

        await subscriber.SubscribeAsync(_keys.CancelChannel, _cancelHandler).ConfigureAwait(false);
        _cancelSubscribed = true;
    }

    private async Task UnsubscribeAsync()
    {
        if (_connection is null || _notifyHandler is null)
        {
            return;
        }

        try
        {
            var subscriber = _connection.GetSubscriber();
            await subscriber.UnsubscribeAsync(_keys.NotifyChannel, _notifyHandler).ConfigureAwait(false);
            await subscriber.UnsubscribeAsync(_keys.CancelChannel, _cancelHandler).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsTransient(e))
        {
            // Disposing while Redis is away: the subscription dies with the connection or is dropped by Redis.
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class CancellationSubscription(RedisJobStore store, Action<string> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                store.RemoveCancellationHandler(handler);
            }
        }
    }
}
