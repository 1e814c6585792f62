using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite.Tests;

/// <summary>Waking idle workers: at once within a process, by PRAGMA data_version across processes.</summary>
public sealed class SqliteStoreSignalTests : IDisposable
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
    public async Task WaitForJobsAsync_EnqueueThroughAnotherInstanceOfTheSameFile_WakesAtOnce()
    {
        await using var worker = _database.CreateStore(_time);
        await using var client = _database.CreateStore(_time);
        await worker.InitializeAsync(Ct);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));

        var wait = worker.WaitForJobsAsync(TimeSpan.FromMinutes(1), Ct).AsTask();
        Assert.False(wait.IsCompleted);
        await client.EnqueueAsync(TestJobs.New(), Ct);

        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_InfiniteTimeout_WaitsForTheSignal()
    {
        await using var worker = _database.CreateStore(_time);
        await worker.InitializeAsync(Ct);

        var wait = worker.WaitForJobsAsync(Timeout.InfiniteTimeSpan, Ct).AsTask();
        _time.Advance(TimeSpan.FromDays(1));
        Assert.False(wait.IsCompleted);
        await worker.EnqueueAsync(TestJobs.New(), Ct);

        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_InstanceOfAnotherFile_IsNotWoken()
    {
        using var otherDatabase = new SqliteTestDatabase();
        await using var worker = _database.CreateStore(_time);
        await using var other = otherDatabase.CreateStore(_time);
        await worker.InitializeAsync(Ct);

        var wait = worker.WaitForJobsAsync(TimeSpan.FromSeconds(5), Ct).AsTask();
        await other.EnqueueAsync(TestJobs.New(), Ct);
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_SignalBetweenAnEmptyDequeueAndTheWait_ReturnsAtOnce()
    {
        await using var worker = _database.CreateStore(_time);
        await using var client = _database.CreateStore(_time);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
        await client.EnqueueAsync(TestJobs.New(), Ct);

        Assert.True(await worker.WaitForJobsAsync(TimeSpan.FromMinutes(1), Ct));

        // The signal is used up: the next wait waits again.
        var next = worker.WaitForJobsAsync(TimeSpan.FromSeconds(5), Ct).AsTask();
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await next.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_AnotherProcessMakesAJobPending_WakesAtTheNextPoll()
    {
        await using var worker = _database.CreateStore(_time, o => o.ExternalChangePollInterval = TimeSpan.FromMilliseconds(100));
        await worker.EnqueueAsync(TestJobs.New(processAt: _time.GetUtcNow().AddHours(1)), Ct);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
        var wait = worker.WaitForJobsAsync(TimeSpan.FromMinutes(1), Ct).AsTask();

        // Another process (here a bare connection, which no in-process signal knows of) promotes the job.
        using (var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET state = 'pending', enqueued_at = scheduled_at, pending_seq = 1000 WHERE state = 'scheduled';";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        Assert.False(wait.IsCompleted);
        await AdvanceUntilAsync(wait, TimeSpan.FromMilliseconds(100));

        Assert.True(await wait);
        Assert.Single(await worker.DequeueAsync(TestJobs.Request(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_AnotherProcessWritesButNothingIsPending_KeepsWaitingUntilTheTimeout()
    {
        await using var worker = _database.CreateStore(_time, o => o.ExternalChangePollInterval = TimeSpan.FromMilliseconds(100));
        await worker.InitializeAsync(Ct);
        var wait = worker.WaitForJobsAsync(TimeSpan.FromSeconds(1), Ct).AsTask();

        using (var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO locks (name, owner, expires_at) VALUES ('cron', 'other', 0);";
            command.ExecuteNonQuery();
        }

        await AdvanceUntilAsync(wait, TimeSpan.FromMilliseconds(100));

        Assert.False(await wait);
        Assert.True(_time.GetUtcNow() >= new DateTimeOffset(2026, 1, 1, 0, 0, 1, TimeSpan.Zero));
    }

    /// <summary>Moves the fake clock step by step until the wait ends, giving the store's poll a moment of real time after each step.</summary>
    private async Task AdvanceUntilAsync(Task<bool> wait, TimeSpan step)
    {
        for (var i = 0; i < 1000 && !wait.IsCompleted; i++)
        {
            _time.Advance(step);
            await Task.WhenAny(wait, Task.Delay(20, Ct));
        }
    }
}
