using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A fresh schema with a random name for one test, dropped with everything in it afterwards. Stores created on it
/// share the schema, as servers share one database.
/// </summary>
public sealed class PostgresTestSchema : IAsyncDisposable
{
    private readonly List<PostgresJobStore> _stores = [];

    public string Name { get; } = "t_" + Guid.NewGuid().ToString("N");

    public static string ConnectionString => PostgresTestServer.RequireConnectionString();

    public PostgresStoreOptions Options(Action<PostgresStoreOptions>? configure = null)
    {
        var options = new PostgresStoreOptions
        {
            ConnectionString = ConnectionString,
            Schema = Name,
            ListenReconnectDelay = TimeSpan.FromMilliseconds(100),

            // CONVEYOR_TEST_POSTGRES_RELAXED=true runs every test with relaxed worker commits.
            RelaxedWorkerCommits = string.Equals(Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES_RELAXED"), "true", StringComparison.OrdinalIgnoreCase),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A store on this schema, not yet initialized; disposed with the schema.</summary>
    public PostgresJobStore CreateStore(TimeProvider timeProvider, Action<PostgresStoreOptions>? configure = null)
    {
        var store = new PostgresJobStore(Options(configure), timeProvider);
        _stores.Add(store);
        return store;
    }

    /// <summary>An initialized store on this schema.</summary>
    public async Task<PostgresJobStore> CreateInitializedStoreAsync(TimeProvider timeProvider, Action<PostgresStoreOptions>? configure = null)
    {
        var store = CreateStore(timeProvider, configure);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    /// <summary>For the conformance suite, which initializes and disposes the store itself.</summary>
    public ValueTask<IJobStore> CreateJobStoreAsync(TimeProvider timeProvider) =>
        ValueTask.FromResult<IJobStore>(new PostgresJobStore(Options(), timeProvider));

    /// <summary>A connection of the test's own, outside any pool: the restart tests leave pooled connections dead.</summary>
    public async Task<NpgsqlConnection> OpenConnectionAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", $"\"{Name}\"", StringComparison.Ordinal), connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        if (PostgresTestServer.UnavailableReason is not null)
        {
            return;
        }

        await using var connection = await OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }
}
