using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Conveyor.Sqlite.Internal;
using Conveyor.Storage;
using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode that the processes of one machine share (a web
/// application that enqueues, a worker process that runs the jobs). The schema is created on first use.
/// </summary>
/// <remarks>
/// <para>
/// Every write runs on one connection per store instance, in a <c>BEGIN IMMEDIATE</c> transaction when it is
/// more than one statement: SQLite lets one connection of one process write at a time, and taking the write
/// lock at BEGIN means two processes can never both lease the same job. Reads run on a small pool of other
/// connections, which WAL never makes wait for the writer.
/// </para>
/// <para>
/// Durability: <c>synchronous=NORMAL</c> (see <see cref="SqliteStoreOptions.DurableCommits"/>). Every time is
/// taken from the <see cref="TimeProvider"/>, never from SQLite.
/// </para>
/// </remarks>
public sealed partial class SqliteJobStore : IJobStore, IAsyncDisposable
{
    private readonly TimeProvider _timeProvider;
    private readonly string _connectionString;
    private readonly string _databaseName;
    private readonly string? _directoryToCreate;
    private readonly bool _singleConnection;
    private readonly TimeSpan _busyTimeout;
    private readonly bool _durableCommits;
    private readonly TimeSpan _pollInterval;
    private readonly bool _watchWriteAheadLog;
    private readonly int _maxReadConnections;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<SqliteSession> _readers = new();
    private readonly StoreSignal _signal;
    private readonly DatabaseFileGuard? _fileGuard;
    private SqliteSession? _writer;

    /// <summary>
    /// How many of the next writer connections open read-only, as SQLite opens a file the process may not write. Tests
    /// run as root, whom a file mode does not stop.
    /// </summary>
    internal int ReadOnlyWriterOpensForTests;

    /// <summary>The writer is open in WAL mode, so its <c>-wal</c> log must be at its path (<see cref="DatabaseFileGuard"/>).</summary>
    private volatile bool _writerKeepsLog;
    private bool _removedLogCheckpointed;

    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store on the file that <paramref name="options"/> names; nothing is opened until first use.</summary>
    public SqliteJobStore(SqliteStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);

        var builder = string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new SqliteConnectionStringBuilder { DataSource = options.Path ?? SqliteStoreOptions.DefaultPath }
            : new SqliteConnectionStringBuilder(options.ConnectionString);

        // The store keeps its own connections (with their prepared statements) open; a pool would only keep
        // the file open after DisposeAsync.
        builder.Pooling = false;

        var dataSource = builder.DataSource;
        _singleConnection = builder.Mode == SqliteOpenMode.Memory || dataSource.Length == 0 || dataSource == ":memory:";
        if (_singleConnection || dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            // A private in-memory database is one per connection: this store uses one connection for everything.
            _databaseName = dataSource.Length == 0 ? "(temporary database)" : dataSource;
        }
        else
        {
            _databaseName = System.IO.Path.GetFullPath(dataSource);
            builder.DataSource = _databaseName;
            if (builder.Mode != SqliteOpenMode.ReadOnly)
            {
                _directoryToCreate = System.IO.Path.GetDirectoryName(_databaseName);
            }
        }

        _connectionString = builder.ToString();
        _timeProvider = timeProvider;
        _busyTimeout = options.BusyTimeout > TimeSpan.Zero ? options.BusyTimeout : SqliteStoreOptions.DefaultBusyTimeout;
        _durableCommits = options.DurableCommits;
        _pollInterval = options.ExternalChangePollInterval > TimeSpan.Zero
            ? options.ExternalChangePollInterval
            : SqliteStoreOptions.DefaultExternalChangePollInterval;
        _maxReadConnections = Math.Max(1, options.MaxReadConnections);
        // A file this store may write, named by a path (not an in-memory or URI data source).
        _watchWriteAheadLog = options.WatchWriteAheadLog && _directoryToCreate is not null;
        _fileGuard = _directoryToCreate is null ? null : new DatabaseFileGuard(_databaseName);
        _signal = StoreSignal.For(_singleConnection ? $"{_databaseName}#{Guid.NewGuid():N}" : _databaseName);
        _seenGeneration = _signal.Generation;
    }

    /// <inheritdoc />
    public string Name => "sqlite";

    /// <summary>The full path of the database file (or the in-memory data source), as error messages name it.</summary>
    public string DatabasePath => _databaseName;

    /// <inheritdoc />
    public ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        _initialized ? ValueTask.CompletedTask : new ValueTask(WriteAsync(0, static (_, _, _) => 0, cancellationToken).AsTask());

    /// <summary>Closes the store's connections. Jobs and leases stay in the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            lock (_logWatcherLock)
            {
                _logWatcher?.Dispose();
                _logWatcher = null;
            }

            _writerKeepsLog = false;
            _writer?.Dispose();
            _writer = null;
            while (_readers.TryDequeue(out var reader))
            {
                reader.Dispose();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private long Now() => UnixTime.ToMicroseconds(_timeProvider.GetUtcNow());

    /// <summary>Runs <paramref name="body"/> on the writer connection, one caller at a time.</summary>
    private async ValueTask<T> WriteAsync<TState, T>(
        TState state, Func<SqliteJobStore, SqliteSession, TState, T> body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFileGone(underWriteLock: true);
            return body(this, Writer(), state);
        }
        catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == ReadOnlyDatabaseMoved && _fileGuard is not null)
        {
            throw _fileGuard.Moved(ex);
        }
        catch (Exception ex) when (TryTranslate(ex, out var translated))
        {
            // A writer that SQLite opened read-only (the file was not writable then) stays read-only: opened again at
            // the next call, it is writable as soon as the file is.
            if (ex is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) == ReadOnly)
            {
                _writerKeepsLog = false;
                _writer?.Dispose();
                _writer = null;
            }

            throw translated;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs a read on a pooled read connection (or on the writer for an in-memory database).</summary>
    private async ValueTask<T> ReadAsync<TState, T>(
        TState state, Func<SqliteJobStore, SqliteSession, TState, T> body, CancellationToken cancellationToken)
    {
        if (_singleConnection || !_initialized)
        {
            if (_singleConnection)
            {
                return await WriteAsync(state, body, cancellationToken).ConfigureAwait(false);
            }

            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfFileGone(underWriteLock: false);
        SqliteSession? session = null;
        var healthy = false;
        try
        {
            if (!_readers.TryDequeue(out session))
            {
                session = SqliteSession.Open(_connectionString, _busyTimeout, _durableCommits, readOnly: true);
            }

            var result = body(this, session, state);
            healthy = true;
            return result;
        }
        catch (Exception ex) when (TryTranslate(ex, out var translated))
        {
            throw translated;
        }
        finally
        {
            if (session is not null)
            {
                if (healthy)
                {
                    ReturnReader(session);
                }
                else
                {
                    session.Dispose();
                }
            }
        }
    }

    private void ReturnReader(SqliteSession session)
    {
        if (_disposed || _readers.Count >= _maxReadConnections)
        {
            session.Dispose();
            return;
        }

        _readers.Enqueue(session);
        if (_disposed && _readers.TryDequeue(out var late))
        {
            late.Dispose();
        }
    }

    private const int ReadOnly = 8;
    private const int ReadOnlyDatabaseMoved = 1032;

    /// <summary>Once the store has opened its file: refuses the call when the file is no longer at its path (<see cref="DatabaseFileGuard"/>).</summary>
    private void ThrowIfFileGone(bool underWriteLock)
    {
        if (!_initialized || _fileGuard is not { } guard)
        {
            return;
        }

        try
        {
            guard.ThrowIfGone(_writerKeepsLog);
        }
        catch (JobStoreUnavailableException) when (underWriteLock)
        {
            CheckpointRemovedLog();
            throw;
        }
    }

    /// <summary>
    /// The commits of a <c>-wal</c> log deleted under the store are in the open, unlinked log alone, lost at the next
    /// crash: a checkpoint copies them into the file, which a restart reads. Once, at the first refused write.
    /// </summary>
    private void CheckpointRemovedLog()
    {
        if (_removedLogCheckpointed || !_writerKeepsLog || _writer is not { } writer || !File.Exists(_databaseName))
        {
            return;
        }

        _removedLogCheckpointed = true;
        try
        {
            writer.Execute("PRAGMA wal_checkpoint(FULL);");
        }
        catch (SqliteException)
        {
            // The refusal stands; what the log held is lost only if the process then crashes.
        }
    }

    /// <summary>
    /// The file that stands where a directory of <paramref name="directory"/> must be, if one does: that directory can then
    /// never be created, whereas a missing mount or a permission may yet be fixed while the server retries.
    /// </summary>
    private static string? FileInTheWayOf(string? directory)
    {
        for (var path = directory; !string.IsNullOrEmpty(path); path = System.IO.Path.GetDirectoryName(path))
        {
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>The writer connection, opened and the schema ensured on first use. Call under the write lock.</summary>
    private SqliteSession Writer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writer is { } writer)
        {
            return writer;
        }

        if (!string.IsNullOrEmpty(_directoryToCreate))
        {
            Directory.CreateDirectory(_directoryToCreate);
        }

        var connectionString = _connectionString;
        if (ReadOnlyWriterOpensForTests > 0)
        {
            ReadOnlyWriterOpensForTests--;
            connectionString = new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadOnly }.ToString();
        }

        var session = SqliteSession.Open(connectionString, _busyTimeout, _durableCommits, readOnly: false);
        try
        {
            SqliteSchema.EnsureCreated(session, _databaseName);
            _lastDataVersion = session.DataVersion();
            _writerKeepsLog = _fileGuard is not null && session.UsesWriteAheadLog();
        }
        catch
        {
            session.Dispose();
            throw;
        }

        _writer = session;
        _initialized = true;
        return session;
    }

    /// <summary>
    /// Names the SQLite failure for the operator. What may pass (a lock, a full disk, a missing mount) becomes a
    /// <see cref="JobStoreUnavailableException"/> that the server backs off from and retries; a file that is corrupt or
    /// not a database, a path that is a directory, or a directory path through a file, does not heal by waiting, so while
    /// the store opens it becomes an <see cref="InvalidDataException"/> that stops a start at once instead of after the
    /// whole store start timeout.
    /// </summary>
    private bool TryTranslate(Exception exception, [NotNullWhen(true)] out Exception? translated)
    {
        // Only while opening: a page found corrupt later, by a running server, stays a failure the callers back off from.
        if (!_initialized && exception is SqliteException { SqliteErrorCode: 11 or 26 })
        {
            translated = new InvalidDataException(
                $"The SQLite file '{_databaseName}' is corrupt or is not a SQLite database. {exception.Message}", exception);
            return true;
        }

        if (!_initialized && exception is SqliteException { SqliteErrorCode: 14 } && Directory.Exists(_databaseName))
        {
            translated = new InvalidDataException(
                $"The SQLite path '{_databaseName}' is a directory; give the path of a file in it (Conveyor:Sqlite:Path). {exception.Message}", exception);
            return true;
        }

        if (!_initialized && exception is IOException && FileInTheWayOf(_directoryToCreate) is { } file)
        {
            translated = new InvalidDataException(
                $"The SQLite path '{_databaseName}' cannot have its directory: '{file}' is a file (Conveyor:Sqlite:Path). {exception.Message}", exception);
            return true;
        }

        var what = exception switch
        {
            SqliteException { SqliteErrorCode: 5 or 6 } =>
                $"the file stayed locked by another connection for longer than the busy timeout ({_busyTimeout.TotalSeconds:0.###} s)",
            SqliteException { SqliteErrorCode: 14 } =>
                "the file could not be opened (is the path a directory, or is its directory missing or not writable?)",
            SqliteException { SqliteErrorCode: 8 } => "the file or its directory is read-only",
            SqliteException { SqliteErrorCode: 13 } => "the disk is full",
            SqliteException { SqliteErrorCode: 10 } => "an I/O error occurred",
            SqliteException { SqliteErrorCode: 3 or 23 } => "access to the file was denied",
            SqliteException { SqliteErrorCode: 7 or 9 or 15 } => "SQLite could not complete the operation",
            IOException or UnauthorizedAccessException => "its directory could not be created",
            _ => null,
        };

        translated = what is null
            ? null
            : new JobStoreUnavailableException($"The SQLite job store '{_databaseName}' is unavailable: {what}. {exception.Message}", exception);
        return translated is not null;
    }
}
