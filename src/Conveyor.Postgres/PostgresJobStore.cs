using Conveyor.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Conveyor.Postgres;

/// <summary>
/// The PostgreSQL store: jobs live in one table of the database the application already has. Workers lease
/// batches with <c>FOR UPDATE SKIP LOCKED</c>, idle workers wake on LISTEN/NOTIFY, and a job can be enqueued in
/// the same transaction as the application's own writes (<see cref="EnqueueAsync(NpgsqlConnection, NpgsqlTransaction?, NewJob, CancellationToken)"/>),
/// so it exists if and only if that transaction commits.
/// </summary>
/// <remarks>
/// Every timestamp is taken from the store's <see cref="TimeProvider"/> and passed as a parameter; no statement
/// reads the database's clock. Transport failures surface as <see cref="JobStoreUnavailableException"/>.
/// The store is safe to use from many threads and many processes. Each SQL statement sits next to the method
/// that runs it, with a header that states its parameters and what it returns; <c>:"schema"</c> in it is
/// replaced by the quoted schema name once, when the store is created.
/// </remarks>
public sealed partial class PostgresJobStore : IJobStore, IJobCancellationSignal, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationGrace _grace;
    private readonly WakeSignal _signal = new();
    private readonly PostgresNotifier _notifier;
    private readonly string _jobsChannel;
    private readonly string _cancelChannel;
    private int _disposed;

    // Opening: an open began in this process and has failed only for outages so far, so SQL the schema lacks means "not
    // migrated yet". NotOpened (a client that never opens, or an open that failed for good) and Open: a defect.
    private volatile OpenState _open;

    /// <summary>
    /// Creates a store on <paramref name="dataSource"/>, which the caller owns (the usual case with dependency
    /// injection, where the application registers one <see cref="NpgsqlDataSource"/>).
    /// </summary>
    public PostgresJobStore(NpgsqlDataSource dataSource, PostgresStoreOptions? options = null, TimeProvider? timeProvider = null, ILogger<PostgresJobStore>? logger = null)
        : this(dataSource, ownsDataSource: false, options ?? new PostgresStoreOptions(), timeProvider, logger)
    {
    }

    /// <summary>Creates a store with its own data source, built from <see cref="PostgresStoreOptions.ConnectionString"/>.</summary>
    public PostgresJobStore(PostgresStoreOptions options, TimeProvider? timeProvider = null, ILogger<PostgresJobStore>? logger = null)
        : this(BuildDataSource(options), ownsDataSource: true, options, timeProvider, logger)
    {
    }

    private PostgresJobStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgresStoreOptions options, TimeProvider? timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        PostgresSchemaName.EnsureValid(options.Schema);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _grace = new CancellationGrace(dataSource, _time);
        _jobsChannel = options.Schema + "_jobs";
        _cancelChannel = options.Schema + "_cancel";
        _notifier = new PostgresNotifier(_dataSource, _jobsChannel, _cancelChannel, _signal, options.ListenReconnectDelay, _logger);
    }

    /// <inheritdoc />
    public string Name => "postgres";

    /// <summary>The schema that holds the store's tables.</summary>
    public string Schema => _options.Schema;

    /// <summary>The data source, for tests that look at the session state the store leaves on its connections.</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>The listener, for tests that wait until it listens again after a restart.</summary>
    internal PostgresNotifier Notifier => _notifier;

    /// <summary>
    /// Applies the migrations this schema lacks (or, with <see cref="PostgresStoreOptions.ApplyMigrations"/> false,
    /// checks that they were applied) and opens the listening connection.
    /// </summary>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        if (_open != OpenState.Open)
        {
            _open = OpenState.Opening;
        }

        try
        {
            // Under the grace, as every other call: a host stopped while a frozen server holds the migrations' lock
            // stops without waiting out Npgsql's cancel request. Their transaction commits whole or not at all.
            var newer = await _grace.RunAsync(
                token => _options.ApplyMigrations
                    ? PostgresMigrator.MigrateAsync(_dataSource, _options.Schema, token)
                    : PostgresMigrator.VerifyAsync(_dataSource, _options.Schema, token),
                cancellationToken).ConfigureAwait(false);
            if (newer.Length > 0)
            {
                // Not refused: in a rolling upgrade the servers not yet replaced restart on the new schema, and a roll-back
                // needs them to start; but this version's statements were not written for that version's functions.
                LogNewerSchema(_logger, _options.Schema, string.Join(", ", newer), PostgresMigrator.LatestVersion);
            }
            _open = OpenState.Open;

            await _notifier.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (PostgresFaults.IsUnavailable(exception))
        {
            // The migrations are what bring the schema up to date: SQL of theirs that names what it lacks is their
            // defect (a file applied by hand half-way), which the static check leaves to surface.
            ClearPoolAfter(exception);
            throw PostgresFaults.Wrap(exception);
        }
        catch (Exception exception) when (_open == OpenState.Opening && exception is not (JobStoreUnavailableException or OperationCanceledException))
        {
            // Failed for good (a wrong password, a schema newer than this version): the calls' errors are their own.
            _open = OpenState.NotOpened;
            if (exception is PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification })
            {
                // Named with what to fix: a server's start line gave PostgreSQL's words alone ("database … does not exist").
                throw new InvalidOperationException(
                    $"PostgreSQL refused the connection ({exception.Message}): check Database=, Username= and Password= (and SSL Mode=) in Conveyor:Postgres:ConnectionString, and the server's pg_hba.conf for this host.", exception);
            }

            throw;
        }
    }

    /// <summary>
    /// Calls <paramref name="onCancelRequested"/> with the job id whenever a cancellation is requested for an active
    /// job, in this process or any other process sharing the database, within milliseconds (LISTEN/NOTIFY). The call
    /// runs on the listening connection's thread: keep it short (cancel a token source, no I/O). A job may be
    /// reported more than once. When the listening connection is down, <see cref="ExtendLeasesAsync"/> still reports
    /// the request at the next extension. Dispose the result to stop.
    /// </summary>
    public IDisposable SubscribeToCancellations(Action<string> onCancelRequested)
    {
        ArgumentNullException.ThrowIfNull(onCancelRequested);
        return _notifier.SubscribeToCancellations(onCancelRequested);
    }

    /// <inheritdoc />
    public ValueTask<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _signal.WaitAsync(timeout, _time, cancellationToken);

    /// <summary>Closes the listening connection and, if the store built it, the data source.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _notifier.DisposeAsync().ConfigureAwait(false);
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static NpgsqlDataSource BuildDataSource(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("PostgresStoreOptions.ConnectionString is required when no NpgsqlDataSource is given.", nameof(options));
        }

        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        if (!options.ConnectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            && !options.ConnectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            // The store runs a small fixed set of statements: prepared once per connection, they skip parsing and planning.
            builder.ConnectionStringBuilder.MaxAutoPrepare = options.MaxAutoPrepare;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        if (!options.ConnectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase)
            && !options.ConnectionString.Contains("ResetOnClose", StringComparison.OrdinalIgnoreCase))
        {
            // The store leaves no session state behind (SET LOCAL ends with its transaction; the listening
            // connection UNLISTENs before it closes), so the reset Npgsql sends with every pooled reuse is waste.
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        }

        return builder.Build();
    }

    private string Sql(string template) => PostgresSchemaName.Substitute(template, _options.Schema);

    private DateTimeOffset Now() => _time.GetUtcNow();

    /// <summary>
    /// Whether a failure is the store being away, or (while this process is opening the store) a schema still to be
    /// migrated: a process that started without its store (an API, or a server with StartWithoutStore) calls it while
    /// the background opener waits for it, so those calls back off and try again rather than fail as defects.
    /// </summary>
    private bool IsUnavailable(Exception exception) =>
        PostgresFaults.IsUnavailable(exception) || (_open == OpenState.Opening && PostgresFaults.IsSchemaBehind(exception));

    /// <summary>
    /// <see cref="IsUnavailable"/> on the caller's connection and transaction: there a read-only transaction is the
    /// caller's own (<c>SET TRANSACTION READ ONLY</c>, a role whose transactions are read-only), not a standby reached
    /// during a failover, and its error comes through as the statement's, the caller's transaction still usable.
    /// </summary>
    private bool IsUnavailableOnCallersConnection(Exception exception) => IsUnavailable(exception) && !PostgresFaults.IsReadOnly(exception);

    /// <summary>
    /// Wraps a transport failure. A broken connection may leave other idle connections of the pool broken too
    /// (a server restart closes them all), so the pool is cleared and the next call opens fresh ones.
    /// </summary>
    private JobStoreUnavailableException Fault(Exception exception)
    {
        ClearPoolAfter(exception);
        return Wrap(exception);
    }

    private void ClearPoolAfter(Exception exception)
    {
        if (PostgresFaults.MayLeaveIdleConnectionsBroken(exception))
        {
            _dataSource.Clear();
        }
    }

    /// <summary>Wraps a failure that <see cref="IsUnavailable"/> accepted, on a connection the store may not own.</summary>
    private JobStoreUnavailableException Wrap(Exception exception) =>
        _open == OpenState.Opening && PostgresFaults.IsSchemaBehind(exception) ? PostgresFaults.SchemaBehind(exception) : PostgresFaults.Wrap(exception);

    /// <summary>
    /// A one-statement batch for the workers' hot path. With <see cref="PostgresStoreOptions.RelaxedWorkerCommits"/>
    /// a <c>SET LOCAL synchronous_commit = off</c> follows the statement in the same implicit transaction (after it,
    /// so the statement's result comes first); it is read at commit and ends with the transaction.
    /// </summary>
    private NpgsqlBatch WorkerBatch(string sql, out NpgsqlBatchCommand command)
    {
        var batch = _dataSource.CreateBatch();
        command = new NpgsqlBatchCommand(sql);
        batch.BatchCommands.Add(command);
        if (_options.RelaxedWorkerCommits)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"));
        }

        return batch;
    }

    /// <summary>A one-statement batch for a dequeue, whose statement relaxes its own commit (see <c>RelaxedCommit</c>).</summary>
    private NpgsqlBatch DequeueBatch(string sql, out NpgsqlBatchCommand command)
    {
        var batch = _dataSource.CreateBatch();
        command = new NpgsqlBatchCommand(sql);
        batch.BatchCommands.Add(command);
        return batch;
    }

    private static NpgsqlParameter<T> P<T>(T value) => new() { TypedValue = value };

    private static NpgsqlParameter Text(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter TimestampTz(DateTimeOffset? value) =>
        new() { Value = value is { } v ? v.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private enum OpenState
    {
        NotOpened,
        Opening,
        Open,
    }

    [LoggerMessage(EventId = 934, Level = LogLevel.Warning, Message = "The Conveyor schema '{schema}' has migration {versions} applied, newer than the {latest} this version of Conveyor.Postgres knows: a newer version has used it. It runs for a rolling upgrade or a roll-back, but its statements were not written for that version's functions: upgrade Conveyor.Postgres on every server and worker.")]
    private static partial void LogNewerSchema(ILogger logger, string schema, string versions, int latest);
}
