using System.Data.Common;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A fan-out inside the application's own transaction: <see cref="IEventPublisher.CreateJobs"/> builds the subscribers'
/// jobs, <c>connection.EnqueueAllOrNoneAsync(transaction, store, jobs)</c> writes them with the application's rows, and
/// they exist exactly when the transaction commits.
/// </summary>
public sealed class PostgresTransactionalPublishTests : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);
    private PostgresJobStore _store = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddConveyor()
            .UseInMemoryStore()
            .AddSubscriber<OrderPlaced, ReserveStock>(queue: "default")
            .AddSubscriber<OrderPlaced, EmailReceipt>(queue: "low");
        _services = services.BuildServiceProvider();
        if (PostgresTestServer.UnavailableReason is null || PostgresTestServer.IsCi)
        {
            _store = await _schema.CreateInitializedStoreAsync(_time);
        }
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _schema.DisposeAsync();
    }

    private IReadOnlyList<NewJob> JobsOf(OrderPlaced order) => _services.GetRequiredService<IEventPublisher>().CreateJobs(order);

    [PostgresFact]
    public async Task Publish_InTransactionCommitted_EverySubscribersJobExistsWithTheApplicationsWrite()
    {
        var jobs = JobsOf(new OrderPlaced(7));
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await InsertOrderAsync(connection, transaction, 7);
            var result = await connection.EnqueueAllOrNoneAsync(transaction, _store, jobs);
            Assert.True(result.AllStored);

            // Nobody else sees them before the commit.
            Assert.Null(await _store.GetAsync(TenantId.Default, jobs[0].Id, CancellationToken.None));
            await transaction.CommitAsync();
        }

        Assert.Equal(["order:placed.reserve-stock", "order:placed.email-receipt"], jobs.Select(j => j.Type));
        foreach (var job in jobs)
        {
            var stored = await _store.GetAsync(TenantId.Default, job.Id, CancellationToken.None);
            Assert.Equal((job.Type, job.Queue, JobState.Pending), (stored!.Type, stored.Queue, stored.State));
        }

        Assert.Equal(1L, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.orders"));
    }

    [PostgresFact]
    public async Task Publish_InTransactionRolledBack_LeavesNoSubscribersJob()
    {
        var jobs = JobsOf(new OrderPlaced(8));
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await InsertOrderAsync(connection, transaction, 8);
            Assert.True((await connection.EnqueueAllOrNoneAsync(transaction, _store, jobs)).AllStored);
            await transaction.RollbackAsync();
        }

        foreach (var job in jobs)
        {
            Assert.Null(await _store.GetAsync(TenantId.Default, job.Id, CancellationToken.None));
        }

        Assert.Empty(await _store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
    }

    [PostgresFact]
    public async Task Publish_RefusedInTransaction_WritesNoJob_AndTheTransactionStaysUsable()
    {
        // The second subscriber's job id is taken already: the publish is refused whole, the application's write commits.
        var jobs = JobsOf(new OrderPlaced(9)).ToList();
        await _store.EnqueueAsync(TestJobs.New(id: jobs[1].Id), CancellationToken.None);

        EnqueueAllResult result;
        await using (var npgsql = await _schema.OpenConnectionAsync())
        {
            DbConnection connection = npgsql;
            await using var transaction = await connection.BeginTransactionAsync();
            result = await connection.EnqueueAllOrNoneAsync(transaction, _store, jobs);
            await InsertOrderAsync(npgsql, (NpgsqlTransaction)transaction, 9);
            await transaction.CommitAsync();
        }

        Assert.False(result.AllStored);
        Assert.Equal((1, EnqueueOutcome.DuplicateId), (result.RefusedIndex, result.Refusal!.Outcome));
        Assert.Null(await _store.GetAsync(TenantId.Default, jobs[0].Id, CancellationToken.None));
        Assert.Equal(1L, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.orders"));
    }

    private async Task InsertOrderAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int id)
    {
        await using var command = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS \"{_schema.Name}\".orders (id int PRIMARY KEY); INSERT INTO \"{_schema.Name}\".orders VALUES ({id})",
            connection,
            transaction);
        await command.ExecuteNonQueryAsync();
    }

    public sealed record OrderPlaced(long OrderId) : IEventPayload
    {
        public static string EventType => "order:placed";
    }

    public sealed class ReserveStock : IEventSubscriber<OrderPlaced>
    {
        public Task HandleAsync(OrderPlaced @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class EmailReceipt : IEventSubscriber<OrderPlaced>
    {
        public Task HandleAsync(OrderPlaced @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
