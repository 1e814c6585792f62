using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A store on a schema of its own, on a fake clock, for tests that interleave a store operation with a transaction
/// of their own: the test holds a row lock, starts the operation, waits until PostgreSQL shows it waiting for a lock,
/// then lets it go.
/// </summary>
public abstract class PostgresLockRaceTestBase : IAsyncLifetime
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
