using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite.Internal;

/// <summary>
/// One open connection and its prepared commands. A command is created once per statement and keeps its
/// prepared SQLite statement, so the hot path binds values and steps, nothing else. Not thread-safe: the
/// store hands a session to one caller at a time.
/// </summary>
/// <remarks>
/// The calls are synchronous on purpose: Microsoft.Data.Sqlite's async methods run synchronously anyway
/// (SQLite has no asynchronous I/O), so the async wrappers would only add allocations. Callers wait for a
/// session asynchronously instead.
/// </remarks>
internal sealed class SqliteSession : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand?[] _commands = new SqliteCommand?[Enum.GetValues<SqlStatement>().Length];
    private readonly Dictionary<string, SqliteCommand> _builtCommands = new(StringComparer.Ordinal);
    private readonly SqliteCommand _begin;
    private readonly SqliteCommand _commit;
    private readonly SqliteCommand _rollback;
    private readonly int _commandTimeoutSeconds;
    private SqliteCommand? _dataVersion;

    private SqliteSession(SqliteConnection connection, int commandTimeoutSeconds)
    {
        _connection = connection;
        _commandTimeoutSeconds = commandTimeoutSeconds;
        _begin = CreateCommand("BEGIN IMMEDIATE;");
        _commit = CreateCommand("COMMIT;");
        _rollback = CreateCommand("ROLLBACK;");
    }

    /// <summary>
    /// Opens a connection and sets its per-connection pragmas. WAL itself is a property of the file, set once
    /// by <see cref="SqliteSchema"/>.
    /// </summary>
    public static SqliteSession Open(string connectionString, TimeSpan busyTimeout, bool fullSync, bool readOnly)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();

            // The listing's error filter: the last error line's message, ASCII case ignored (JobQuery.ErrorContains).
            // The text comes as UTF-8 bytes: as text, SQLite would hand the function what precedes a U+0000, and
            // "disk\0" would match every message containing "disk" ("\0" alone, every message).
            connection.CreateFunction<string, byte[], bool>(
                "conveyor_last_error_contains",
                static (errors, text) => JobErrorLines.LastMessageContains(errors, Encoding.UTF8.GetString(text)),
                isDeterministic: true);

            // SQLite's own busy handler waits for another connection's write lock with short backoffs.
            // Microsoft.Data.Sqlite retries busy statements too, until the command timeout: keep that at the
            // same length so that a locked file fails after about BusyTimeout, not twice that.
            var busyMilliseconds = (long)Math.Ceiling(busyTimeout.TotalMilliseconds);
            var timeoutSeconds = (int)Math.Max(1, Math.Ceiling(busyTimeout.TotalSeconds));
            connection.DefaultTimeout = timeoutSeconds;
            var session = new SqliteSession(connection, timeoutSeconds);
            session.Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {busyMilliseconds};"));

            // NORMAL with WAL: a process crash loses nothing committed; a power loss or OS crash may roll back
            // the last transactions, never corrupt the file. FULL also survives power loss, at a write cost.
            session.Execute(fullSync ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
            session.Execute("PRAGMA temp_store = MEMORY;");

            // A job cancelled by the workflow triggers may itself have dependants: the triggers must fire again.
            session.Execute("PRAGMA recursive_triggers = ON;");

            // After a burst the WAL file is cut back to this size at the next checkpoint instead of keeping
            // its largest size on disk.
            session.Execute("PRAGMA journal_size_limit = 67108864;");
            if (readOnly)
            {
                session.Execute("PRAGMA query_only = 1;");
            }

            return session;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public SqliteConnection Connection => _connection;

    /// <summary>The prepared command of a statement; parameters keep their last values until set again.</summary>
    public SqliteCommand Command(SqlStatement statement) =>
        _commands[(int)statement] ??= CreateCommand(SqlText.Get(statement));

    /// <summary>
    /// The prepared command of a statement the store builds from a few fixed parts (a listing's filters): one per
    /// distinct text, kept like <see cref="Command(SqlStatement)"/>; there are a few dozen texts at most.
    /// </summary>
    public SqliteCommand Command(string builtSql)
    {
        if (!_builtCommands.TryGetValue(builtSql, out var command))
        {
            command = CreateCommand(builtSql);
            _builtCommands.Add(builtSql, command);
        }

        return command;
    }

    public void Begin() => _begin.ExecuteNonQuery();

    public void Commit() => _commit.ExecuteNonQuery();

    /// <summary>Rolls back the open transaction, if any; never throws (it runs while another exception unwinds).</summary>
    public void RollbackQuietly()
    {
        try
        {
            _rollback.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // No transaction was open (BEGIN failed) or SQLite already rolled it back (e.g. SQLITE_FULL).
        }
    }

    /// <summary>Runs <paramref name="body"/> in a BEGIN IMMEDIATE transaction: it holds the file's write lock from the start.</summary>
    public T InTransaction<TState, T>(TState state, Func<SqliteSession, TState, T> body)
    {
        Begin();
        try
        {
            var result = body(this, state);
            Commit();
            return result;
        }
        catch
        {
            RollbackQuietly();
            throw;
        }
    }

    /// <summary>
    /// PRAGMA data_version: changes when another connection (of any process) commits to the file since this
    /// connection last asked, never for this connection's own writes.
    /// </summary>
    public long DataVersion()
    {
        _dataVersion ??= CreateCommand("PRAGMA data_version;");
        return Convert.ToInt64(_dataVersion.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the file is in WAL mode: it stays in the rollback journal mode where WAL is not possible.</summary>
    public bool UsesWriteAheadLog()
    {
        using var command = CreateCommand("PRAGMA journal_mode;");
        return string.Equals(command.ExecuteScalar() as string, "wal", StringComparison.OrdinalIgnoreCase);
    }

    public void Execute(string sql)
    {
        using var command = CreateCommand(sql);
        command.ExecuteNonQuery();
    }

    public long ExecuteInt64(string sql)
    {
        using var command = CreateCommand(sql);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var command in _commands)
        {
            command?.Dispose();
        }

        foreach (var command in _builtCommands.Values)
        {
            command.Dispose();
        }

        _begin.Dispose();
        _commit.Dispose();
        _rollback.Dispose();
        _dataVersion?.Dispose();
        _connection.Dispose();
    }

    private SqliteCommand CreateCommand(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = _commandTimeoutSeconds;
        return command;
    }
}
