using Conveyor.Storage;

namespace Conveyor.Sqlite.Tests;

/// <summary>What the store does when its file changes under it: made writable after a read-only start, removed, its log removed.</summary>
public sealed class SqliteFileFaultTests : IDisposable
{
    private const string RemovedOrReplaced = "was removed or replaced";

    private readonly SqliteTestDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _guard.Token;

    public void Dispose()
    {
        _guard.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task EnqueueAsync_WriterOpenedReadOnly_FailsUnavailable_ThenTheNextCallWritesOnceTheFileIsWritable()
    {
        await using (var creator = _database.CreateStore(_time))
        {
            await creator.InitializeAsync(Ct);
        }

        await using var sut = _database.CreateStore(_time);
        // SQLite opens a file the process may not write (mode 444) read-only, without an error; root ignores the mode, so
        // the test asks SQLite for the same read-only connection, once: the file is "writable again" from the next open.
        sut.ReadOnlyWriterOpensForTests = 1;
        await sut.InitializeAsync(Ct);

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));
        Assert.Contains("read-only", error.Message, StringComparison.Ordinal);

        // Before the fix the read-only writer was kept for good: every write failed until a restart.
        var enqueued = await sut.EnqueueAsync(TestJobs.New(), Ct);
        Assert.Equal(EnqueueOutcome.Enqueued, enqueued.Outcome);
        Assert.NotNull(await sut.GetAsync(TenantId.Default, enqueued.JobId, Ct));
    }

    [Fact]
    public async Task EnqueueAsync_DatabaseFileDeletedUnderTheStore_RefusesWritesAndReads_NamingThePath()
    {
        await using var sut = _database.CreateStore(_time);
        var before = await sut.EnqueueAsync(TestJobs.New(), Ct);

        File.Delete(_database.Path);

        await AssertRefusedAsync(sut, before.JobId);
    }

    [Fact]
    public async Task EnqueueAsync_DataDirectoryRemovedUnderTheStore_RefusesWritesAndReads_NamingThePath()
    {
        var directory = _database.Path + ".data";
        var path = Path.Combine(directory, "conveyor.db");
        await using var sut = new SqliteJobStore(new SqliteStoreOptions { Path = path }, _time);
        var before = await sut.EnqueueAsync(TestJobs.New(), Ct);

        Directory.Delete(directory, recursive: true);

        await AssertRefusedAsync(sut, before.JobId, path);
        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));
        Assert.Contains("directory was removed or replaced", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory), "the store must not create the directory (and a new, empty database) again");
    }

    [Fact]
    public async Task EnqueueAsync_WriteAheadLogDeletedUnderTheStore_RefusesWritesAndReads()
    {
        await using var sut = _database.CreateStore(_time);
        var before = await sut.EnqueueAsync(TestJobs.New(), Ct);

        File.Delete(_database.Path + "-wal");

        await AssertRefusedAsync(sut, before.JobId);
    }

    [Fact]
    public async Task EnqueueAsync_WriteAheadLogDeletedUnderTheStore_CopiesItsCommitsIntoTheFile()
    {
        await using var sut = _database.CreateStore(_time);
        var committed = await sut.EnqueueAsync(TestJobs.New(), Ct);

        File.Delete(_database.Path + "-wal");
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));

        // What a kill -9 now leaves: the file alone. Before the fix the job was only in the unlinked log.
        var copy = _database.Path + ".copy";
        try
        {
            File.Copy(_database.Path, copy);
            await using var fromFile = new SqliteJobStore(new SqliteStoreOptions { Path = copy }, _time);
            Assert.NotNull(await fromFile.GetAsync(TenantId.Default, committed.JobId, Ct));
        }
        finally
        {
            foreach (var suffix in (string[])["", "-wal", "-shm"])
            {
                File.Delete(copy + suffix);
            }
        }
    }

    [Fact]
    public async Task EnqueueAsync_DatabaseFileDeleted_StaysRefusedWhenAnotherFileAppearsAtThePath()
    {
        await using var sut = _database.CreateStore(_time);
        await sut.EnqueueAsync(TestJobs.New(), Ct);
        File.Delete(_database.Path);
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));

        // Another process (or a second store of this one) creates a new file at the path.
        await using (var other = _database.CreateStore(_time))
        {
            await other.InitializeAsync(Ct);
        }

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));
        Assert.Contains(RemovedOrReplaced, error.Message, StringComparison.Ordinal);
    }

    private async Task AssertRefusedAsync(SqliteJobStore sut, string existingJobId, string? path = null)
    {
        path ??= _database.Path;

        // Before the fix the write succeeded, into the unlinked file that no restart would see.
        var write = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));
        Assert.Contains($"'{path}'", write.Message, StringComparison.Ordinal);
        Assert.Contains(RemovedOrReplaced, write.Message, StringComparison.Ordinal);

        // Readiness reads a job: it must fail too, and a worker's wait for jobs must not spin on the old file.
        var read = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.GetAsync(TenantId.Default, existingJobId, Ct));
        Assert.Contains(RemovedOrReplaced, read.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.DequeueAsync(TestJobs.Request(1), Ct));
    }
}
