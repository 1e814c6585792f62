using Microsoft.Extensions.Logging;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// One dedicated connection per store that LISTENs on the store's two channels: "jobs" (a job may be ready: wake
/// idle workers) and "cancel" (payload: the id of an active job whose cancellation was requested). PostgreSQL
/// delivers a NOTIFY only when the transaction that sent it commits, so a worker is never woken for a job that a
/// rolled-back transaction enqueued.
/// </summary>
/// <remarks>
/// When the connection breaks (a restart, a failover, a network cut) the notifier reconnects after a delay and
/// LISTENs again, then wakes the workers once, because notifications sent meanwhile were lost. Until then idle
/// workers fall back to their poll interval and cancellations to the lease extension, so nothing is lost, only
/// slower. The delays are in real time on purpose: they pace a network connection, not job timestamps.
/// </remarks>
internal sealed partial class PostgresNotifier : IAsyncDisposable
{
    /// <summary>The longest wait between two attempts to listen again in one outage.</summary>
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);

    // A LISTENing connection that stays silent this long is checked with a query, so a half-open TCP
    // connection (the server vanished without a FIN) is noticed and replaced.
    private static readonly TimeSpan IdleCheckInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the store's disposal waits for the UNLISTEN of its listening connection. A server that accepts bytes but
    /// never answers (frozen, or behind a partition that keeps sockets open) would hold it for the Command Timeout and
    /// then Npgsql's cancel request (a minute with the defaults), and the host disposes the store after its own shutdown
    /// timeout has been spent: the process outlived a 30 s termination grace, to be killed.
    /// </summary>
    private static readonly TimeSpan UnlistenTimeout = TimeSpan.FromSeconds(2);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _jobsChannel;
    private readonly string _cancelChannel;
    private readonly WakeSignal _signal;
    private readonly TimeSpan _reconnectDelay;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Action<string>[] _cancelSubscribers = [];
    private TaskCompletionSource _listening = NewSource();
    private Task? _loop;
    private int _connections;
    private int _wakes;
    private int _echoesSkipped;

    public PostgresNotifier(NpgsqlDataSource dataSource, string jobsChannel, string cancelChannel, WakeSignal signal, TimeSpan reconnectDelay, ILogger logger)
    {
        _dataSource = dataSource;
        _jobsChannel = jobsChannel;
        _cancelChannel = cancelChannel;
        _signal = signal;
        _reconnectDelay = reconnectDelay;
        _logger = logger;
    }

    /// <summary>
    /// Appended to the queue name in the payload of the NOTIFY this store's own enqueues send. After such an enqueue
    /// commits, the store wakes its workers itself, at once; the same NOTIFY coming back through the server a moment
    /// later would wake them a second time, when the job is already taken, for an empty dequeue each (a round
    /// trip and CPU on a machine that is already serving the job). Notifications with this mark are skipped;
    /// every other process (and this store's enqueues in a caller's transaction) sends a payload without it.
    /// Queue names have no spaces, so the mark cannot be mistaken for part of one.
    /// </summary>
    public string EchoMark { get; } = " " + Guid.NewGuid().ToString("N");

    /// <summary>How many times a connection started listening (1 after start, more after reconnects).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>How many notifications on the jobs channel woke the workers, for tests.</summary>
    public int Wakes => Volatile.Read(ref _wakes);

    /// <summary>How many notifications on the jobs channel were this store's own echo and were skipped, for tests.</summary>
    public int EchoesSkipped => Volatile.Read(ref _echoesSkipped);

    /// <summary>True while a connection is listening.</summary>
    public bool IsListening => Volatile.Read(ref _listening).Task.IsCompleted;

    /// <summary>Opens the listening connection (failing if the server cannot be reached) and keeps it open in the background.</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_loop is not null)
            {
                return;
            }
        }

        var connection = await ListenAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_loop is null)
            {
                _loop = Task.Run(() => RunAsync(connection, _stopping.Token), CancellationToken.None);
                return;
            }
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Completes when a connection is listening.</summary>
    public Task WaitUntilListeningAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _listening).Task.WaitAsync(cancellationToken);

    public IDisposable SubscribeToCancellations(Action<string> onCancelRequested)
    {
        lock (_gate)
        {
            _cancelSubscribers = [.. _cancelSubscribers, onCancelRequested];
        }

        return new Subscription(this, onCancelRequested);
    }

    /// <summary>Tells this process's subscribers at once, without waiting for the NOTIFY to come back.</summary>
    public void PublishCancellation(string jobId)
    {
        foreach (var subscriber in Volatile.Read(ref _cancelSubscribers))
        {
            try
            {
                subscriber(jobId);
            }
            catch (Exception exception)
            {
                LogSubscriberFailed(_logger, exception, jobId);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task<NpgsqlConnection> ListenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection.Notification += OnNotification;
            await using var command = connection.CreateCommand();
            command.CommandText = $"LISTEN \"{_jobsChannel}\"; LISTEN \"{_cancelChannel}\"";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Interlocked.Increment(ref _connections);
        Volatile.Read(ref _listening).TrySetResult();
        return connection;
    }

    private async Task RunAsync(NpgsqlConnection? connection, CancellationToken stopping)
    {
        // Failed attempts in a row: the first is a warning with its exception, the rest of an outage a debug line each,
        // and the wait doubles from the reconnect delay to MaxReconnectDelay, so a long outage neither floods the log
        // nor hammers a server that is starting.
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (connection is null)
                {
                    connection = await ListenAsync(stopping).ConfigureAwait(false);
                    failures = 0;
                    LogReconnected(_logger);

                    // Notifications sent while no connection listened are lost: let every idle worker look once.
                    _signal.Set();
                }

                while (true)
                {
                    if (!await connection.WaitAsync(IdleCheckInterval, stopping).ConfigureAwait(false))
                    {
                        await using var ping = connection.CreateCommand();
                        ping.CommandText = "SELECT 1";
                        await ping.ExecuteScalarAsync(stopping).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                if (PostgresFaults.MayLeaveIdleConnectionsBroken(exception))
                {
                    // The listening connection is the first to hear that the server went away, and the pool's idle
                    // connections went with it. Npgsql clears the pool itself when the server says it is shutting down
                    // (57P01); after a crash or a network cut it would lend them as if alive, to requests and to the
                    // reconnects here.
                    _dataSource.Clear();
                }

                if (failures++ == 0)
                {
                    LogConnectionLost(_logger, exception, _reconnectDelay);
                }
                else
                {
                    // The client's message can repeat what the server or a proxy said: escaped like every store error.
                    LogStillLost(_logger, failures, LogText.Escape(exception.Message));
                }
            }

            await CloseAsync(connection, unlisten: false).ConfigureAwait(false);
            connection = null;
            try
            {
                // Wall-clock pacing of a reconnect, not job time: a store whose jobs run on a fake clock (tests) must
                // still get its listener back.
                await Task.Delay(ReconnectDelay(failures), TimeProvider.System, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await CloseAsync(connection, unlisten: true).ConfigureAwait(false);
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failed attempt in a row: the reconnect delay, doubled for each one after the first, to MaxReconnectDelay.</summary>
    private TimeSpan ReconnectDelay(int failures)
    {
        var doubled = _reconnectDelay.Ticks << Math.Clamp(failures - 1, 0, 16);
        return TimeSpan.FromTicks(Math.Max(_reconnectDelay.Ticks, Math.Min(doubled, MaxReconnectDelay.Ticks)));
    }

    private async ValueTask CloseAsync(NpgsqlConnection? connection, bool unlisten)
    {
        if (connection is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_listening.Task.IsCompleted)
            {
                _listening = NewSource();
            }
        }

        connection.Notification -= OnNotification;
        if (unlisten && connection.State == System.Data.ConnectionState.Open)
        {
            // A pooled connection that still LISTENs would keep receiving (and queueing) notifications.
            var unlistening = UnlistenAsync(connection);
            try
            {
                // Not through a token: Npgsql's cancel request to a server that does not answer blocks the canceller
                // for up to twice the connection Timeout. The statement is left to end by itself (answered, or broken at
                // its Command Timeout), and only then is its connection returned, never while a statement runs on it.
                await unlistening.WaitAsync(UnlistenTimeout, TimeProvider.System).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _ = unlistening.ContinueWith(static (_, c) => ((NpgsqlConnection)c!).DisposeAsync().AsTask(), connection, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
                return;
            }
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>UNLISTEN * on the connection; never throws, since a connection that broke took its LISTEN with it.</summary>
    private static async Task UnlistenAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "UNLISTEN *";
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (PostgresFaults.IsUnavailable(exception) || exception is InvalidOperationException)
        {
            // The connection is gone; so is its LISTEN.
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (string.Equals(e.Channel, _jobsChannel, StringComparison.Ordinal))
        {
            if (e.Payload.EndsWith(EchoMark, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _echoesSkipped);
            }
            else
            {
                _signal.Set();
                Interlocked.Increment(ref _wakes);
            }
        }
        else if (string.Equals(e.Channel, _cancelChannel, StringComparison.Ordinal))
        {
            PublishCancellation(e.Payload);
        }
    }

    private void Unsubscribe(Action<string> onCancelRequested)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_cancelSubscribers, onCancelRequested);
            if (index >= 0)
            {
                _cancelSubscribers = [.. _cancelSubscribers[..index], .. _cancelSubscribers[(index + 1)..]];
            }
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 930, Level = LogLevel.Warning, Message = "The PostgreSQL listening connection was lost; reconnecting in {Delay}. Idle workers poll meanwhile.")]
    private static partial void LogConnectionLost(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 933, Level = LogLevel.Debug, Message = "The PostgreSQL listening connection is still lost ({Attempts} attempts): {Reason}")]
    private static partial void LogStillLost(ILogger logger, int attempts, string reason);

    [LoggerMessage(EventId = 931, Level = LogLevel.Information, Message = "The PostgreSQL listening connection is back.")]
    private static partial void LogReconnected(ILogger logger);

    [LoggerMessage(EventId = 932, Level = LogLevel.Error, Message = "A cancellation subscriber failed for job {job_id}.")]
    private static partial void LogSubscriberFailed(ILogger logger, Exception exception, string job_id);

    private sealed class Subscription(PostgresNotifier owner, Action<string> onCancelRequested) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(onCancelRequested);
            }
        }
    }
}
