using System.Reflection;
using System.Text;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// Applies the numbered SQL files of <c>Migrations/</c> (embedded in the assembly) that a schema has not had yet.
/// Everything happens in one transaction that first takes a transaction-level advisory lock derived from the
/// schema name: many servers starting at once against an empty database queue up on that lock, the first applies
/// the migrations, and the others find them recorded and apply nothing.
/// </summary>
internal static class PostgresMigrator
{
    private const string ResourcePrefix = "Conveyor.Postgres.Migrations.";

    /// <summary>The migrations shipped with this version, in order.</summary>
    public static IReadOnlyList<Migration> All { get; } = Load();

    public static int LatestVersion => All[^1].Version;

    /// <summary>The least time one migration statement is given.</summary>
    private static readonly TimeSpan MigrationTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Applies what the schema lacks; returns the migrations it has that this version does not know (a newer version's).</summary>
    public static async ValueTask<int[]> MigrateAsync(NpgsqlDataSource dataSource, string schema, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey(schema) });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var applied = await ReadAppliedAsync(connection, transaction, schema, cancellationToken).ConfigureAwait(false);
        foreach (var migration in All)
        {
            if (applied.Contains(migration.Version))
            {
                continue;
            }

            // A migration may rewrite a large table: it gets at least MigrationTimeout, whatever Command Timeout the
            // connection string sets for the store's short statements, and still ends if the server stops answering.
            await using (var command = new NpgsqlCommand(PostgresSchemaName.Substitute(migration.Sql, schema), connection, transaction)
            {
                CommandTimeout = Math.Max(connection.CommandTimeout, (int)MigrationTimeout.TotalSeconds),
            })
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // Files applied by hand record themselves the same way (see the header of each file).
            var record = $"INSERT INTO {PostgresSchemaName.Quote(schema)}.schema_migrations (version, name) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING";
            await using (var command = new NpgsqlCommand(record, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return Newer(applied);
    }

    /// <summary>
    /// For stores whose migrations a DBA applies: fails with a clear message unless every migration is recorded; returns
    /// the migrations recorded that this version does not know.
    /// </summary>
    public static async ValueTask<int[]> VerifyAsync(NpgsqlDataSource dataSource, string schema, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var applied = await ReadAppliedAsync(connection, null, schema, cancellationToken).ConfigureAwait(false);
        var missing = All.Where(m => !applied.Contains(m.Version)).Select(m => m.Name).ToArray();
        if (missing.Length > 0)
        {
            // Unavailable, not a failure for good: a migration job started beside the servers may be applying them now.
            throw new JobStoreUnavailableException(
                $"The Conveyor schema '{schema}' lacks the migrations {string.Join(", ", missing)} and ApplyMigrations is false. " +
                $"Apply them with psql (psql -v ON_ERROR_STOP=1 -1 -v schema={schema} -f <file>) or set Conveyor:Postgres:ApplyMigrations to true.");
        }

        return Newer(applied);
    }

    /// <summary>The migrations of <paramref name="applied"/> newer than this version's latest, in order.</summary>
    private static int[] Newer(HashSet<int> applied) => [.. applied.Where(v => v > LatestVersion).Order()];

    private static async ValueTask<HashSet<int>> ReadAppliedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string schema, CancellationToken cancellationToken)
    {
        var applied = new HashSet<int>();
        var sql = $"SELECT to_regclass('{PostgresSchemaName.Quote(schema)}.schema_migrations') IS NOT NULL";
        await using (var exists = new NpgsqlCommand(sql, connection, transaction))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return applied;
            }
        }

        await using var command = new NpgsqlCommand($"SELECT version FROM {PostgresSchemaName.Quote(schema)}.schema_migrations", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied.Add(reader.GetInt32(0));
        }

        return applied;
    }

    /// <summary>A stable 64-bit key per schema (FNV-1a), so stores of different schemas do not wait on each other.</summary>
    internal static long LockKey(string schema)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes("conveyor.migrations:" + schema))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    private static Migration[] Load()
    {
        var assembly = typeof(PostgresMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[ResourcePrefix.Length..^".sql".Length];
            var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);
            migrations.Add(new Migration(version, name, ReadResource(assembly, resource)));
        }

        return [.. migrations.OrderBy(m => m.Version)];
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Missing resource {name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    internal sealed record Migration(int Version, string Name, string Sql);
}
