namespace Notes.Domain;

/// <summary>Where notes are kept (a port: the adapters implement it over SQLite; tests over a list).</summary>
public interface INoteRepository
{
    Task<Note> AddAsync(string title, CancellationToken cancellationToken);

    /// <summary>The note, or null if there is none with that id.</summary>
    Task<Note?> FindAsync(long id, CancellationToken cancellationToken);

    Task SaveAsync(Note note, CancellationToken cancellationToken);
}
