namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Archives a note. A payload that can never succeed (a note id that is not positive, a note that does not exist)
/// is a <see cref="SkipRetryException"/>; anything else the repository throws is retried with backoff.
/// </summary>
public sealed partial class NoteArchiveHandler(INoteRepository notes, ILogger<NoteArchiveHandler> logger) : IJobHandler<ArchiveNote>
{
    public async Task HandleAsync(ArchiveNote payload, JobContext context, CancellationToken cancellationToken)
    {
        if (payload.NoteId <= 0)
        {
            throw new SkipRetryException($"note_id must be a positive number; got {payload.NoteId}.");
        }

        if (!await notes.ArchiveAsync(payload.NoteId, cancellationToken))
        {
            throw new SkipRetryException($"Note {payload.NoteId} does not exist.");
        }

        LogArchived(logger, payload.NoteId);
    }

    [LoggerMessage(1201, LogLevel.Information, "Note {note_id} archived")]
    private static partial void LogArchived(ILogger logger, long note_id);
}
