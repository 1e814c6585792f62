using Conveyor.Storage;

namespace Conveyor.Sqlite.Tests;

/// <summary>What the store does when its file changes under it: made writable after a read-only start, removed, its log removed.</summary>
public sealed class SqliteFileFaultTests : IDisposable
{
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
}
