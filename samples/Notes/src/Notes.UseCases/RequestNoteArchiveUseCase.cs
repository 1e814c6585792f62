using Notes.Domain;
using Notes.UseCases.Ports;

namespace Notes.UseCases;

/// <summary>What became of a request to archive a note.</summary>
public enum ArchiveRequestOutcome
{
    /// <summary>The archive job is enqueued.</summary>
    Queued,

    /// <summary>There is no such note.</summary>
    NotFound,

    /// <summary>The note is archived already: nothing to do.</summary>
    AlreadyArchived,
}

/// <summary>
/// Asks for a note to be archived (called by the API): checks what can be checked now and leaves the work to the
/// worker, through <see cref="INoteJobs"/>.
/// </summary>
public sealed class RequestNoteArchiveUseCase(INoteRepository notes, INoteJobs jobs)
{
    /// <returns>The outcome, and the archive job's id when one was enqueued.</returns>
    public async Task<(ArchiveRequestOutcome Outcome, string? JobId)> ExecuteAsync(long noteId, CancellationToken cancellationToken)
    {
        var note = await notes.FindAsync(noteId, cancellationToken).ConfigureAwait(false);
        if (note is null)
        {
            return (ArchiveRequestOutcome.NotFound, null);
        }

        if (note.IsArchived)
        {
            return (ArchiveRequestOutcome.AlreadyArchived, null);
        }

        return (ArchiveRequestOutcome.Queued, await jobs.EnqueueArchiveAsync(noteId, cancellationToken).ConfigureAwait(false));
    }
}
