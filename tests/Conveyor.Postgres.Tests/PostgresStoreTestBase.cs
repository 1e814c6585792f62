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
            Store = await Schema.CreateInitializedStoreAsync(Time, ConfigureStore);
        }
    }

    public async Task DisposeAsync() => await Schema.DisposeAsync();

    /// <summary>The store's options beyond the schema's defaults.</summary>
    protected virtual Action<PostgresStoreOptions>? ConfigureStore => null;

    /// <summary>
    /// For a test that makes the store the side PostgreSQL rolls back in a deadlock: PostgreSQL looks for a cycle once,
    /// deadlock_timeout after a session began to wait, so the store's sessions wait long enough for the test to close
    /// the cycle on a loaded machine (the test's own session looks later still, with a longer one).
    /// </summary>
    protected static Action<PostgresStoreOptions> DeadlockTimeoutOfSeconds(int seconds) =>
        options => options.ConnectionString += $";Options=-c deadlock_timeout={seconds}s";

    protected static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
