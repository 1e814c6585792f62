using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite.Tests;

/// <summary>
/// Waking idle workers: at once within a process; across processes by PRAGMA data_version, checked when the file
/// system reports a write to the write-ahead log and at every poll.
/// </summary>
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
    public async Task WaitForJobsAsync_AnotherProcessMakesAJobPending_WakesWithoutWaitingForThePoll()
    {
        await using var worker = _database.CreateStore(_time, o => o.ExternalChangePollInterval = TimeSpan.FromMinutes(1));
        await worker.EnqueueAsync(TestJobs.New(processAt: _time.GetUtcNow().AddHours(1)), Ct);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
        var wait = worker.WaitForJobsAsync(TimeSpan.FromMinutes(5), Ct).AsTask();

        PromoteFromAnotherConnection();

        // Far less than the poll interval: only the report of the write to the log can have woken it. The clock moves
        // by a millisecond at a time for the look the store takes again when a report came before its commit showed.
        await AdvanceUntilAsync(wait, TimeSpan.FromMilliseconds(1));
        Assert.True(wait.IsCompleted, "the wait did not end within a second of the fake clock, far less than the poll interval");
        Assert.True(await wait);
        Assert.Single(await worker.DequeueAsync(TestJobs.Request(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_AReportThatLedToAnEmptyDequeue_LeavesTheWaitsToThePollUntilADequeueFindsJobs()
    {
        await using var worker = _database.CreateStore(_time, o => o.ExternalChangePollInterval = TimeSpan.FromMinutes(1));
        // Other processes' jobs in a queue this one does not serve: each report wakes the wait, the dequeue finds nothing.
        for (var i = 0; i < SqliteJobStore.WastedReportsToIgnoreForTests; i++)
        {
            await worker.EnqueueAsync(TestJobs.New(queue: "elsewhere", processAt: _time.GetUtcNow().AddHours(1)), Ct);
            Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
            var woken = worker.WaitForJobsAsync(TimeSpan.FromMinutes(5), Ct).AsTask();
            PromoteFromAnotherConnection("elsewhere");
            await AdvanceUntilAsync(woken, TimeSpan.FromMilliseconds(1));
            Assert.True(await woken);
            Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
        }

        await worker.EnqueueAsync(TestJobs.New(processAt: _time.GetUtcNow().AddHours(1)), Ct);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));

        // So the next report is not worth waking for: the wait takes the poll's turn, and the job is found then.
        var wait = worker.WaitForJobsAsync(TimeSpan.FromMinutes(5), Ct).AsTask();
        PromoteFromAnotherConnection(QueueName.Default);
        await AdvanceUntilAsync(wait, TimeSpan.FromMilliseconds(1), steps: 50);
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Single(await worker.DequeueAsync(TestJobs.Request(10), Ct));
    }

    [Fact]
    public async Task WaitForJobsAsync_AnotherProcessMakesAJobPendingWhereNoWriteIsReported_WakesAtTheNextPoll()
    {
        await using var worker = _database.CreateStore(_time, o =>
        {
            o.ExternalChangePollInterval = TimeSpan.FromMilliseconds(100);
            o.WatchWriteAheadLog = false;
        });
        await worker.EnqueueAsync(TestJobs.New(processAt: _time.GetUtcNow().AddHours(1)), Ct);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
        var wait = worker.WaitForJobsAsync(TimeSpan.FromMinutes(1), Ct).AsTask();

        PromoteFromAnotherConnection();

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

    /// <summary>
    /// The fetcher cancels the store's wait at nearly every wake-up: a wait whose look at the file is queued behind a
    /// write ends at once with false, without throwing, and what that look finds once it runs still wakes the next wait.
    /// </summary>
    [Fact]
    public async Task WaitForJobsAsync_CancelledWhileItsLookWaitsForTheWriteLock_AnswersFalseAtOnce_AndTheLookStillWakesTheNextWait()
    {
        await using var worker = _database.CreateStore(_time, o =>
        {
            o.ExternalChangePollInterval = TimeSpan.FromMilliseconds(100);
            o.WatchWriteAheadLog = false;
            o.BusyTimeout = TimeSpan.FromMinutes(1);
        });
        await worker.EnqueueAsync(TestJobs.New(processAt: _time.GetUtcNow().AddHours(1)), Ct);
        Assert.Empty(await worker.DequeueAsync(TestJobs.Request(10), Ct));
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var wait = worker.WaitForJobsAsync(TimeSpan.FromMinutes(1), cancellation.Token).AsTask();
        PromoteFromAnotherConnection();

        // Another process holds the file's write lock, so a write of the worker's waits for it holding the worker's own.
        using var other = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        other.Open();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE;";
            begin.ExecuteNonQuery();
        }

        var write = Task.Run(async () => await worker.TryAcquireLockAsync("held", "worker", TimeSpan.FromMinutes(1), Ct));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!worker.WriteLockHeldForTests && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, Ct);
        }

        Assert.True(worker.WriteLockHeldForTests, "the worker's write did not take its lock");
        // The poll comes due, and its look queues behind the write.
        var looks = worker.LooksBegunForTests;
        _time.Advance(TimeSpan.FromMilliseconds(100));
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (worker.LooksBegunForTests == looks && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, Ct);
        }

        Assert.True(worker.LooksBegunForTests > looks, "the wait's poll did not look at the file");
        Assert.False(wait.IsCompleted, "the wait ended while its look could not run");
        await cancellation.CancelAsync();
        Assert.Same(wait, await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(5), Ct)));
        Assert.True(wait.IsCompletedSuccessfully, $"the cancelled wait ended {wait.Status}");
        Assert.False(await wait);

        using (var commit = other.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            commit.ExecuteNonQuery();
        }

        Assert.True(await write.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(await worker.WaitForJobsAsync(TimeSpan.FromMinutes(1), Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Single(await worker.DequeueAsync(TestJobs.Request(10), Ct));
    }

    /// <summary>Another process (here a bare connection, which no in-process signal knows of) makes the scheduled job pending.</summary>
    private void PromoteFromAnotherConnection(string? queue = null)
    {
        using var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE jobs SET state = 'pending', enqueued_at = scheduled_at, pending_seq = 1000 + seq WHERE state = 'scheduled' AND (@queue IS NULL OR queue = @queue);";
        command.Parameters.AddWithValue("@queue", (object?)queue ?? DBNull.Value);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    /// <summary>Moves the fake clock step by step until the wait ends, giving the store's poll a moment of real time after each step.</summary>
    private async Task AdvanceUntilAsync(Task<bool> wait, TimeSpan step, int steps = 1000)
    {
        for (var i = 0; i < steps && !wait.IsCompleted; i++)
        {
            _time.Advance(step);
            await Task.WhenAny(wait, Task.Delay(20, Ct));
        }
    }
}
