using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A store on a schema of its own, on a fake clock, and raw statements beside it: for tests that run the store inside
/// a transaction of their own, or interleave a store operation with one (the test holds a row lock, starts the
/// operation, waits until PostgreSQL shows it waiting for a lock, then lets it go).
/// </summary>
public abstract class PostgresStoreTestBase : IAsyncLifetime
{
    protected PostgresTestSchema Schema { get; } = new();

    protected FakeTimeProvider Time { get; } = new(TestJobs.StartTime);

    protected PostgresJobStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (PostgresTestServer.UnavailableReason is null || PostgresTestServer.IsCi)
        {
            Store = await Schema.CreateInitializedStoreAsync(Time);
        }
    }

    public async Task DisposeAsync() => await Schema.DisposeAsync();

    protected static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
