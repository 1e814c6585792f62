using Microsoft.Data.Sqlite;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The server's own database (a SQLite file next to the store's): the inventory that <c>bulk:import</c> fills. Rows
/// are upserted by (tenant, sku), so a job that runs again after a crash leaves the same table, not duplicates.
/// </summary>
public sealed class InventoryDatabase(SampleDataDirectory data)
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder { DataSource = data.DatabasePath, Pooling = true }.ToString();
    private volatile bool _created;

    public async Task UpsertAsync(string tenant, string jobId, IReadOnlyList<InventoryRow> rows, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO inventory_items (tenant, sku, quantity, job_id, imported_at) VALUES ($tenant, $sku, $quantity, $job_id, $now)
            ON CONFLICT (tenant, sku) DO UPDATE SET quantity = excluded.quantity, job_id = excluded.job_id, imported_at = excluded.imported_at
            """;
        command.Parameters.AddWithValue("$tenant", tenant);
        command.Parameters.AddWithValue("$job_id", jobId);
        command.Parameters.AddWithValue("$now", now.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var sku = command.Parameters.Add("$sku", SqliteType.Text);
        var quantity = command.Parameters.Add("$quantity", SqliteType.Integer);
        foreach (var row in rows)
        {
            sku.Value = row.Sku;
            quantity.Value = row.Quantity;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<InventoryRow>> ListAsync(string tenant, int limit, CancellationToken cancellationToken)
    {
        if (!_created && !File.Exists(data.DatabasePath))
        {
            // Nothing imported yet: a read does not create the file (on a full disk it could not).
            return [];
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sku, quantity FROM inventory_items WHERE tenant = $tenant ORDER BY sku LIMIT $limit";
        command.Parameters.AddWithValue("$tenant", tenant);
        command.Parameters.AddWithValue("$limit", limit);
        var rows = new List<InventoryRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new InventoryRow(reader.GetString(0), reader.GetInt32(1)));
        }

        return rows;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(data.DatabasePath)!);
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        if (!_created)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS inventory_items (
                    tenant TEXT NOT NULL,
                    sku TEXT NOT NULL,
                    quantity INTEGER NOT NULL CHECK (quantity > 0),
                    job_id TEXT NOT NULL,
                    imported_at TEXT NOT NULL,
                    PRIMARY KEY (tenant, sku));
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
            _created = true;
        }
        else
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 5000;";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return connection;
    }
}
