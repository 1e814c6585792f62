using System.Collections.Concurrent;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A schema for one test: a fresh one with a random name, dropped with everything in it afterwards, or (for the
/// conformance suite, <see cref="Reused"/>) one that earlier tests of this run used and left empty. Stores created on
/// it share the schema, as servers share one database.
/// </summary>
public sealed class PostgresTestSchema : IAsyncDisposable
{
    private readonly List<PostgresJobStore> _stores = [];
    private readonly bool _reused;

    /// <summary>A fresh schema, migrated by the first store initialized on it.</summary>
    public PostgresTestSchema()
        : this("t_" + Guid.NewGuid().ToString("N"), reused: false)
    {
    }

    private PostgresTestSchema(string name, bool reused)
    {
        Name = name;
        _reused = reused;
    }

    public string Name { get; }

    /// <summary>
    /// A schema with every migration applied and no rows, taken from those earlier tests of this run gave back, or a
    /// fresh one. Migrating a schema and dropping it cost PostgreSQL about 0.5 s of work, more than most conformance
    /// tests take; emptying one costs a few milliseconds. Only for tests that change rows, never the schema itself.
    /// </summary>
    public static PostgresTestSchema Reused() =>
        ReusedSchemas.TryTake(out var name) ? new(name, reused: true) : new("t_" + Guid.NewGuid().ToString("N"), reused: true);

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
        if (_reused && await TryEmptyAsync(connection))
        {
            ReusedSchemas.Give(Name);
            return;
        }

        await DropAsync(connection, Name);
    }

    /// <summary>
    /// Empties every table but the migrations' record, triggers off (the tables are emptied together, so nothing they
    /// keep in step can disagree). False when the schema was never migrated or cannot be emptied: it is dropped.
    /// TRUNCATE rather than DELETE: it also forgets the tables' statistics, so the next test plans its statements as on
    /// a new store. A table emptied by DELETE and then analyzed reads as holding no rows however many pages it has,
    /// and the next test's thousands of rows were planned as one (nested loops over the whole table: an acknowledgement
    /// of 8,000 batch members ran past the command timeout).
    /// </summary>
    private async Task<bool> TryEmptyAsync(NpgsqlConnection connection)
    {
        const string Empty = """
            DO $$
            DECLARE t text;
            BEGIN
                IF to_regclass(format('%I.schema_migrations', current_setting('conveyor_test.schema'))) IS NULL THEN
                    RAISE EXCEPTION 'not migrated';
                END IF;
                SET LOCAL session_replication_role = replica;
                SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO t FROM pg_tables
                WHERE schemaname = current_setting('conveyor_test.schema') AND tablename <> 'schema_migrations';
                EXECUTE 'TRUNCATE ' || t;
            END $$;
            """;
        try
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var setting = new NpgsqlCommand("SELECT set_config('conveyor_test.schema', $1, true)", connection, transaction))
            {
                setting.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Name });
                await setting.ExecuteNonQueryAsync();
            }

            await using (var command = new NpgsqlCommand(Empty, connection, transaction))
            {
                await command.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            return true;
        }
        catch (PostgresException)
        {
            return false;
        }
    }

    private static async Task DropAsync(NpgsqlConnection connection, string name)
    {
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{name}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The emptied schemas of this test run, dropped when the run ends.</summary>
    private static class ReusedSchemas
    {
        private static readonly ConcurrentBag<string> Idle = [];
        private static readonly ConcurrentDictionary<string, bool> All = new(StringComparer.Ordinal);

        static ReusedSchemas() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DropAll();

        public static bool TryTake(out string name) => Idle.TryTake(out name!);

        public static void Give(string name)
        {
            All.TryAdd(name, true);
            Idle.Add(name);
        }

        private static void DropAll()
        {
            if (All.IsEmpty || PostgresTestServer.UnavailableReason is not null)
            {
                return;
            }

            try
            {
                using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
                connection.Open();
                foreach (var name in All.Keys)
                {
                    using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{name}\" CASCADE", connection);
                    command.ExecuteNonQuery();
                }
            }
            catch (NpgsqlException)
            {
                // The run is over; a schema left behind is only clutter in a test database.
            }
        }
    }
}
