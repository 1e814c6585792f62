namespace Conveyor.Server.SampleJobs;

/// <summary>Where notes live; the handler depends on this, not on a database, so it can be tested alone.</summary>
public interface INoteRepository
{
    /// <summary>Archives the note; false if there is no such note.</summary>
    Task<bool> ArchiveAsync(long noteId, CancellationToken cancellationToken);

    Task<bool> IsArchivedAsync(long noteId, CancellationToken cancellationToken);

    /// <summary>Deletes the notes archived before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> DeleteArchivedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
