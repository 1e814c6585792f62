using Conveyor.Storage;

namespace Conveyor.Sqlite.Internal;

/// <summary>
/// Notices that the database file a store has open is no longer at its path: the file, its write-ahead log or
/// its whole directory removed (or renamed away) under a running store.
/// </summary>
/// <remarks>
/// <para>
/// SQLite keeps writing to a file that was unlinked while it had it open, and in WAL mode says nothing: its own check
/// (<c>SQLITE_READONLY_DBMOVED</c>) runs only when a rollback journal is opened. Every commit would then go to a file
/// no other process and no restart can see. A deleted <c>-wal</c> is as bad: the commits in it are lost at the next
/// crash, and a process that opens the file later starts another log.
/// </para>
/// <para>
/// Two <c>stat</c> calls per store call that uses the file, a microsecond or two beside a statement. The log exists for
/// as long as the store's writer connection is open in WAL mode: SQLite deletes it only when the last connection of
/// every process closes, and this store truncates it, never deletes it; between a writer closed after a failure and the
/// next, only the file is checked. A file put back at the path (another process that
/// created a new one, a restored copy) is not noticed: .NET gives no inode to compare with the open file's.
/// </para>
/// <para>
/// Once gone, gone for good: the store does not open the path again, which would silently carry on with a new, empty
/// database. Only a restart opens the path again.
/// </para>
/// </remarks>
internal sealed class DatabaseFileGuard(string databasePath)
{
    private readonly string _logPath = databasePath + "-wal";
    private volatile bool _gone;

    /// <summary>
    /// Throws <see cref="JobStoreUnavailableException"/> when the file, or its log while <paramref name="logKeptOpen"/>
    /// (the store's writer connection is open in WAL mode, which keeps the log in place), is no longer at its path.
    /// </summary>
    public void ThrowIfGone(bool logKeptOpen)
    {
        if (!_gone)
        {
            if (File.Exists(databasePath) && (!logKeptOpen || File.Exists(_logPath)))
            {
                return;
            }

            _gone = true;
        }

        throw Unavailable();
    }

    /// <summary>SQLite's own report (<c>SQLITE_READONLY_DBMOVED</c>, rollback journal mode only) of the same.</summary>
    public JobStoreUnavailableException Moved(Exception sqliteError)
    {
        _gone = true;
        return Unavailable(sqliteError);
    }

    private JobStoreUnavailableException Unavailable(Exception? inner = null)
    {
        // Said as things are now, not as first seen: a directory removed with rm -r is often noticed with only its log gone.
        var what = !Directory.Exists(Path.GetDirectoryName(databasePath))
            ? "the database file's directory was removed or replaced while the store had the file open; what was written since went to the removed file"
            : !File.Exists(databasePath)
                ? "the database file was removed or replaced while the store had it open; what was written since went to the removed file"
                : !File.Exists(_logPath)
                    ? $"its write-ahead log '{_logPath}' was removed or replaced while the store had it open; the commits in it are lost at the next crash"
                    : "the database file or its write-ahead log was removed or replaced while the store had them open";
        var message = $"The SQLite job store '{databasePath}' is unavailable: {what}. The store refuses every call until the process is restarted (a start on a missing file creates a new, empty database).";
        return inner is null ? new JobStoreUnavailableException(message) : new JobStoreUnavailableException(message, inner);
    }
}
