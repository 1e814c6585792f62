using Conveyor.Storage;

namespace Conveyor.Sqlite.Tests;

/// <summary>A fresh database file under the temp directory, deleted (with its WAL and shared-memory files) on dispose.</summary>
public sealed class SqliteTestDatabase : IDisposable
{
    private static readonly string Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "conveyor-sqlite-tests");

    public SqliteTestDatabase()
    {
        Directory.CreateDirectory(Root);
        Path = System.IO.Path.Combine(Root, $"{Guid.NewGuid():N}.db");
    }

    public string Path { get; }

    public SqliteStoreOptions Options(Action<SqliteStoreOptions>? configure = null)
    {
        var options = new SqliteStoreOptions { Path = Path };
        configure?.Invoke(options);
        return options;
    }

    public SqliteJobStore CreateStore(TimeProvider timeProvider, Action<SqliteStoreOptions>? configure = null) =>
        new(Options(configure), timeProvider);

    public ValueTask<IJobStore> CreateStoreAsync(TimeProvider timeProvider) => ValueTask.FromResult<IJobStore>(CreateStore(timeProvider));

    public void Dispose()
    {
        foreach (var suffix in (string[])["", "-wal", "-shm", "-journal"])
        {
            try
            {
                File.Delete(Path + suffix);
            }
            catch (IOException)
            {
                // A store that a failing test left open; the temp directory is cleaned by the OS.
            }
        }
    }
}
