namespace Conveyor.Sqlite.Internal;

/// <summary>
/// Reports writes to a database's write-ahead log (the <c>-wal</c> file), which every commit of every process makes:
/// a waiting worker then checks <c>PRAGMA data_version</c> at once instead of at its next poll, so a job that another
/// process enqueued starts without waiting for the poll. It only says "look now": the poll stays the fallback for a
/// file system that reports nothing (a network share, a container volume) and for a commit reported before it became
/// visible (SQLite updates the log's index after its last write to the log).
/// </summary>
/// <remarks>
/// On Linux one inotify watch of the directory; .NET 10 shares one inotify instance between all watchers of a process.
/// Writes by this process are reported too; the store's check ignores them (data_version changes only for other
/// connections' commits), and a waiting worker's process writes little.
/// </remarks>
internal sealed class WriteAheadLogWatcher : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private TaskCompletionSource _next = NewSource();

    private WriteAheadLogWatcher(FileSystemWatcher watcher)
    {
        _watcher = watcher;
    }

    /// <summary>A watcher of <paramref name="databasePath"/>'s log, or null where the platform or the file system cannot watch it.</summary>
    public static WriteAheadLogWatcher? TryStart(string databasePath)
    {
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(Path.GetDirectoryName(databasePath)!, Path.GetFileName(databasePath) + "-wal")
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName,
                IncludeSubdirectories = false,
            };
            var result = new WriteAheadLogWatcher(watcher);
            watcher.Changed += result.OnWritten;
            watcher.Created += result.OnWritten;

            // Events lost to an overflowing buffer may have included a commit.
            watcher.Error += result.OnWritten;
            watcher.EnableRaisingEvents = true;
            return result;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            watcher?.Dispose();
            return null;
        }
    }

    /// <summary>Completes at the first write reported after this call: check the database after calling it, then wait.</summary>
    public Task NextWriteAsync()
    {
        var current = Volatile.Read(ref _next);
        if (current.Task.IsCompleted)
        {
            // A write reported before this call is one the caller's check that follows will see. Racing callers share one.
            Interlocked.CompareExchange(ref _next, NewSource(), current);
            current = Volatile.Read(ref _next);
        }

        return current.Task;
    }

    public void Dispose() => _watcher.Dispose();

    // Completing the current source allocates nothing: a burst of writes while nobody waits costs no garbage.
    private void OnWritten(object? sender, EventArgs e) => Volatile.Read(ref _next).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
