using Conveyor;
using Microsoft.Extensions.Logging;
using Notes.UseCases;

namespace Notes.Adapters.Jobs;

/// <summary>
/// Runs note:archive by calling the use case that archives a note: the handler translates between the job and the
/// application (payload in, outcome to success or <see cref="SkipRetryException"/>), the use case does the work.
/// </summary>
public sealed partial class NoteArchiveHandler(ArchiveNoteUseCase archive, ILogger<NoteArchiveHandler> logger) : IJobHandler<ArchiveNote>
{
    public async Task HandleAsync(ArchiveNote payload, JobContext context, CancellationToken cancellationToken)
    {
        // Retrying cannot fix a bad payload or a missing note: fail at once. Anything else thrown (the database is
        // down) is retried with backoff.
        if (payload.NoteId <= 0)
        {
            throw new SkipRetryException($"note_id must be a positive number; got {payload.NoteId}.");
        }

        switch (await archive.ExecuteAsync(payload.NoteId, cancellationToken).ConfigureAwait(false))
        {
            case ArchiveOutcome.NotFound:
                throw new SkipRetryException($"Note {payload.NoteId} does not exist.");
            case ArchiveOutcome.AlreadyArchived:
                LogAlreadyArchived(logger, payload.NoteId, context.Attempt);
                break;
            default:
                LogArchived(logger, payload.NoteId, context.Attempt);
                break;
        }
    }

    [LoggerMessage(LogLevel.Information, "Note {note_id} archived (attempt {attempt})")]
    private static partial void LogArchived(ILogger logger, long note_id, int attempt);

    [LoggerMessage(LogLevel.Information, "Note {note_id} was archived already (attempt {attempt})")]
    private static partial void LogAlreadyArchived(ILogger logger, long note_id, int attempt);
}
