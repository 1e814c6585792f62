using Notes.Adapters.Persistence;

namespace Notes.Tests;

public sealed class SqliteNoteRepositoryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("notes-sample-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ANote_IsReadBackWithItsArchiveInstant_FromAnotherRepositoryOnTheSameFile()
    {
        var path = Path.Combine(_directory, "notes.db");
        var note = await new SqliteNoteRepository(path).AddAsync("groceries", CancellationToken.None);
        var instant = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        note.Archive(instant);
        await new SqliteNoteRepository(path).SaveAsync(note, CancellationToken.None);

        var read = await new SqliteNoteRepository(path).FindAsync(note.Id, CancellationToken.None);

        Assert.Equal(("groceries", instant), (read!.Title, read.ArchivedAt));
        Assert.Null(await new SqliteNoteRepository(path).FindAsync(note.Id + 1, CancellationToken.None));
    }
}
