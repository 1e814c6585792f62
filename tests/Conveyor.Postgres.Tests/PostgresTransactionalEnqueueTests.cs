using System.Data.Common;
using Npgsql;

namespace Conveyor.Postgres.Tests;

public sealed class PostgresTransactionalEnqueueTests : IAsyncLifetime
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);
    private PostgresJobStore _store = null!;

    public async Task InitializeAsync()
    {
        if (PostgresTestServer.UnavailableReason is null || PostgresTestServer.IsCi)
        {
            _store = await _schema.CreateInitializedStoreAsync(_time);
        }
    }

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    /// <summary>
    /// A read-only transaction of the caller's is the statement's error, not an outage: taken for one since 25006 means a
    /// standby reached during a failover on the store's own connections, it came out as "could not be reached" and left
    /// the caller's transaction aborted (the review).
    /// </summary>
    [PostgresFact]
    public async Task EnqueueAllOrNone_InTheCallersReadOnlyTransaction_FailsAsTheStatementsError_AndTheTransactionStaysUsable()
    {
        await using var connection = await _schema.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<PostgresException>(async () => await _store.EnqueueAllOrNoneAsync(connection, transaction, [TestJobs.New()]));
        Assert.Equal("25006", error.SqlState);
        await using var probe = new NpgsqlCommand("SELECT 1", connection, transaction);
        Assert.Equal(1, await probe.ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task Enqueue_TransactionRolledBack_LeavesNoJob()
    {
        var job = TestJobs.New();
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await CreateOrderTableAsync(connection, transaction);
            var result = await _store.EnqueueAsync(connection, transaction, job);
            Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
            await transaction.RollbackAsync();
        }

        Assert.Null(await _store.GetAsync(job.Tenant, job.Id, CancellationToken.None));
        Assert.Empty(await _store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
    }

    [PostgresFact]
    public async Task Enqueue_TransactionCommitted_JobIsDequeuedWithTheApplicationsWrite()
    {
        var job = TestJobs.New();
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await CreateOrderTableAsync(connection, transaction);
            await _store.EnqueueAsync(connection, transaction, job);

            // Not visible to anyone else before the commit.
            Assert.Empty(await _store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
            await transaction.CommitAsync();
        }

        var leased = Assert.Single(await _store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
        Assert.Equal(job.Id, leased.Id);
        Assert.Equal(1L, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.orders"));
    }

    [PostgresFact]
    public async Task Enqueue_InTransaction_WakesAnotherProcessesWaiterOnlyAfterCommit()
    {
        // The waiter is a second store instance, as a worker in another process would be: it can learn of the
        // job only through the NOTIFY, which PostgreSQL delivers when the transaction commits.
        var worker = await _schema.CreateInitializedStoreAsync(_time);
        await DrainAsync(worker);
        var wait = worker.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();

        await using var connection = await _schema.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await _store.EnqueueAsync(connection, transaction, TestJobs.New());
        await TestWait.AssertStillRunningAsync(wait, TimeSpan.FromMilliseconds(500), "the waiter was woken before the commit");

        await transaction.CommitAsync();

        Assert.True(await TestWait.CompletesAsync(wait, "the waiter was not woken after the commit"));
        Assert.Single(await worker.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
    }

    [PostgresFact]
    public async Task Enqueue_InTransactionRolledBack_NeverWakesTheWaiter()
    {
        var worker = await _schema.CreateInitializedStoreAsync(_time);
        await DrainAsync(worker);
        var wait = worker.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();

        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await _store.EnqueueAsync(connection, transaction, TestJobs.New());
            await transaction.RollbackAsync();
        }

        await TestWait.AssertStillRunningAsync(wait, TimeSpan.FromMilliseconds(500), "a rolled-back enqueue woke the waiter");
    }

    [PostgresFact]
    public async Task Enqueue_DuplicateInTransaction_IsAValueAndTheTransactionStaysUsable()
    {
        var first = TestJobs.New(id: "order-7");
        await _store.EnqueueAsync(first, CancellationToken.None);

        await using var connection = await _schema.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var duplicate = await _store.EnqueueAsync(connection, transaction, TestJobs.New(id: "order-7"));
        await CreateOrderTableAsync(connection, transaction);
        await transaction.CommitAsync();

        Assert.Equal(EnqueueOutcome.DuplicateId, duplicate.Outcome);
        Assert.Equal(1L, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.orders"));
    }

    [PostgresFact]
    public async Task EnqueueJob_ThroughAdoNetBaseTypesAsEfCoreHandsThemOut_JoinsTheTransaction()
    {
        // EF Core: db.Database.GetDbConnection() and db.Database.CurrentTransaction.GetDbTransaction() are typed as
        // DbConnection and DbTransaction; Dapper works on the same objects.
        var job = TestJobs.New();
        await using (var npgsql = await _schema.OpenConnectionAsync())
        {
            DbConnection connection = npgsql;
            await using DbTransaction transaction = await connection.BeginTransactionAsync();
            await connection.EnqueueJobAsync(transaction, _store, job);
            await transaction.RollbackAsync();
        }

        Assert.Null(await _store.GetAsync(job.Tenant, job.Id, CancellationToken.None));

        await using (var npgsql = await _schema.OpenConnectionAsync())
        {
            DbConnection connection = npgsql;
            await using DbTransaction transaction = await connection.BeginTransactionAsync();
            await connection.EnqueueJobAsync(transaction, _store, job);
            await transaction.CommitAsync();
        }

        Assert.NotNull(await _store.GetAsync(job.Tenant, job.Id, CancellationToken.None));
    }

    [PostgresFact]
    public async Task Enqueue_WithoutTransaction_CommitsAtOnce()
    {
        var job = TestJobs.New();
        await using var connection = await _schema.OpenConnectionAsync();

        await connection.EnqueueJobAsync(null, _store, job);

        Assert.NotNull(await _store.GetAsync(job.Tenant, job.Id, CancellationToken.None));
    }

    /// <summary>The application's own write in the same transaction.</summary>
    private async Task CreateOrderTableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await using var command = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS \"{_schema.Name}\".orders (id int PRIMARY KEY); INSERT INTO \"{_schema.Name}\".orders VALUES (1)",
            connection,
            transaction);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Consumes a signal left by set-up, so the next wait can only be ended by what the test does.</summary>
    private async Task DrainAsync(PostgresJobStore store)
    {
        while (await store.WaitForJobsAsync(TimeSpan.Zero, CancellationToken.None))
        {
        }
    }
}
