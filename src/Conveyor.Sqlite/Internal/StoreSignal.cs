using System.Collections.Concurrent;

namespace Conveyor.Sqlite.Internal;

/// <summary>
/// "A job may have become ready" for one database file, shared by every store instance of that file in the
/// process, so a client and a server in one process wake each other at once. Other processes are noticed
/// by polling PRAGMA data_version instead.
/// </summary>
internal sealed class StoreSignal
{
    private static readonly ConcurrentDictionary<string, StoreSignal> Registry = new(StringComparer.Ordinal);

    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _generation;

    /// <summary>The signal of a database, by its full path (one small object per file the process ever opened).</summary>
    public static StoreSignal For(string databaseKey) => Registry.GetOrAdd(databaseKey, static _ => new StoreSignal());

    /// <summary>Counts the signals so far; a waiter that saw an older value has missed one.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Completes at the next <see cref="Fire"/>. Read it before <see cref="Generation"/> to miss nothing.</summary>
    public Task NextAsync => Volatile.Read(ref _next).Task;

    public void Fire()
    {
        Interlocked.Increment(ref _generation);
        var fired = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        fired.TrySetResult();
    }
}
