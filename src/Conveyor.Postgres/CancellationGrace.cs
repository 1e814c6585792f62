using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// How long a store call outlives its cancelled token: the data source's <c>Cancellation Timeout</c> (2 s by default),
/// the time Npgsql means to wait for a cancelled statement before it breaks the connection.
/// </summary>
/// <remarks>
/// Npgsql does not keep to it when the server accepts connections but never answers (frozen): it first sends a cancel
/// request on a new connection, from the thread that cancels the token, and waits for the server to take it, up to the
/// connection <c>Timeout</c> and, with <c>GSS Encryption Mode=Prefer</c> (the default), once more without GSS encryption;
/// the statement's connection is broken only when that fails (even its <c>Command Timeout</c> waits for it): 30 s with
/// the defaults. So Npgsql gets a token of the call's own, cancelled off the caller's thread, and the call stops waiting
/// for the statement once the grace has passed, leaving it to end by itself (its connection breaks, the pool opens a new
/// one). A statement that ended in the grace, even as the token was cancelled, keeps its result: a write that was made
/// is reported. One left running may still be applied, as after a connection lost mid-write; the caller hears that the
/// call was cancelled, as it does when PostgreSQL is not told in time.
/// </remarks>
internal sealed class CancellationGrace
{
    private readonly TimeSpan? _grace;
    private readonly TimeProvider _time;

    public CancellationGrace(NpgsqlDataSource dataSource, TimeProvider time)
    {
        // 0 is "wait for ever" to Npgsql, -1 "do not wait": what the data source says, whoever built it.
        _grace = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).CancellationTimeout switch
        {
            0 => null,
            < 0 => TimeSpan.Zero,
            var milliseconds => TimeSpan.FromMilliseconds(milliseconds),
        };
        _time = time;
    }

    public async ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        // In a caller's TransactionScope the connection is enlisted: a call let go while its statement runs would leave
        // the caller's commit or rollback racing it on the connection, so it waits for Npgsql, as a caller's own
        // connection does.
        if (_grace is not { } grace || !cancellationToken.CanBeCanceled || System.Transactions.Transaction.Current is not null)
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var own = new CancellationTokenSource();
        var task = call(own.Token).AsTask();
        try
        {
            var result = await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            own.Dispose();
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        if (task.IsCompleted)
        {
            return await task.ConfigureAwait(false);
        }

        // Npgsql's cancel request runs in the callbacks of its token and opens its connection with blocking I/O, for up
        // to twice the connection Timeout on a frozen server: on a thread of its own, neither the caller's nor one the
        // pool needs (many calls cancelled at once starved it, and the grace's own timers came late).
        _ = Task.Factory.StartNew(static o => ((CancellationTokenSource)o!).Cancel(), own, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return await task.WaitAsync(grace, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (task.IsCompleted)
            {
                return await task.ConfigureAwait(false); // it ended as the grace did
            }

            _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new OperationCanceledException(
                $"PostgreSQL did not end the cancelled statement within {grace.TotalMilliseconds:F0} ms (Cancellation Timeout); the call stopped waiting for it.",
                cancellationToken);
        }
        catch (OperationCanceledException exception) when (exception.CancellationToken == own.Token)
        {
            throw new OperationCanceledException(exception.Message, exception, cancellationToken);
        }
    }

    public ValueTask RunAsync(Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        _grace is null || !cancellationToken.CanBeCanceled
            ? call(cancellationToken)
            : new(RunAsync(async token =>
            {
                await call(token).ConfigureAwait(false);
                return true;
            }, cancellationToken).AsTask());
}
