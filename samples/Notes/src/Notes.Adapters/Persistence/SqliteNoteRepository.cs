using System.Globalization;
using Microsoft.Data.Sqlite;
using Notes.Domain;

namespace Notes.Adapters.Persistence;

/// <summary>Notes in one SQLite file, shared by the API and the worker on one machine. The table is made on first use.</summary>
public sealed class SqliteNoteRepository(string path) : INoteRepository
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();

    public async Task<Note> AddAsync(string title, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO notes (title) VALUES ($title) RETURNING id";
        command.Parameters.AddWithValue("$title", title);
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new Note(id, title);
    }

    public async Task<Note?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT title, archived_at FROM notes WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var archivedAt = reader.IsDBNull(1) ? (DateTimeOffset?)null : DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
        return new Note(id, reader.GetString(0), archivedAt);
    }

    public async Task SaveAsync(Note note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(note);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE notes SET archived_at = $archived_at WHERE id = $id";
        command.Parameters.AddWithValue("$id", note.Id);
        command.Parameters.AddWithValue("$archived_at", (object?)note.ArchivedAt?.ToString("O", CultureInfo.InvariantCulture) ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, archived_at TEXT);
                """;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
