using Notes.Domain;

namespace Notes.UseCases;

/// <summary>What became of archiving a note.</summary>
public enum ArchiveOutcome
{
    /// <summary>The note is archived now.</summary>
    Archived,

    /// <summary>It was archived already (a second run of the same job changes nothing).</summary>
    AlreadyArchived,

    /// <summary>There is no such note.</summary>
    NotFound,
}

/// <summary>Archives a note (called by the note:archive job's handler in the worker). Running it twice is harmless.</summary>
public sealed class ArchiveNoteUseCase(INoteRepository notes, TimeProvider time)
{
    public async Task<ArchiveOutcome> ExecuteAsync(long noteId, CancellationToken cancellationToken)
    {
        var note = await notes.FindAsync(noteId, cancellationToken).ConfigureAwait(false);
        if (note is null)
        {
            return ArchiveOutcome.NotFound;
        }

        if (!note.Archive(time.GetUtcNow()))
        {
            return ArchiveOutcome.AlreadyArchived;
        }

        await notes.SaveAsync(note, cancellationToken).ConfigureAwait(false);
        return ArchiveOutcome.Archived;
    }
}
