using System.Text;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Asks for a review and publishes after the editor's approval, each side effect a line of the sample's outbox
/// (<see cref="NotificationOutbox"/>) written in a durable step, so that neither happens twice however often the job
/// runs again: <c>review</c> or <c>publish</c>, note id, job id, attempt, and for <c>publish</c> the approval as sent.
/// </summary>
public sealed partial class PublishNoteHandler(NotificationOutbox outbox, TimeProvider timeProvider, ILogger<PublishNoteHandler> logger) : IJobHandler<PublishNote>
{
    /// <summary>The signal an editor sends to approve the note.</summary>
    public const string ApprovedSignal = "approved";

    /// <summary>How long a note waits for its approval.</summary>
    public static readonly TimeSpan ReviewTime = TimeSpan.FromDays(2);

    public async Task HandleAsync(PublishNote payload, JobContext context, CancellationToken cancellationToken)
    {
        if (payload.NoteId <= 0)
        {
            throw new SkipRetryException($"note_id must be positive; got {payload.NoteId}.");
        }

        if (payload.ReviewSeconds is { } reviewSeconds && (reviewSeconds < 1 || reviewSeconds > ReviewTime.TotalSeconds))
        {
            throw new SkipRetryException($"review_seconds must be between 1 and {(int)ReviewTime.TotalSeconds}; got {payload.ReviewSeconds}.");
        }

        await context.RunStepAsync("review", ct => new ValueTask(outbox.AppendAsync($"review\t{payload.NoteId}\t{context.JobId}\t{context.Attempt}", ct)));
        var approval = await context.WaitForSignalAsync(ApprovedSignal, payload.ReviewSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : ReviewTime, cancellationToken);
        if (approval is not { } approved)
        {
            LogExpired(logger, payload.NoteId);
            return;
        }

        if (payload.DelayMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(payload.DelayMs), timeProvider, cancellationToken);
        }

        var by = Encoding.UTF8.GetString(approved.Span);
        await context.RunStepAsync("publish", ct => new ValueTask(outbox.AppendAsync($"publish\t{payload.NoteId}\t{context.JobId}\t{context.Attempt}\t{by}", ct)));
        LogPublished(logger, payload.NoteId);
    }

    [LoggerMessage(1206, LogLevel.Information, "Note {note_id} published")]
    private static partial void LogPublished(ILogger logger, long note_id);

    [LoggerMessage(1207, LogLevel.Information, "Note {note_id} was not approved in time; not published")]
    private static partial void LogExpired(ILogger logger, long note_id);
}
