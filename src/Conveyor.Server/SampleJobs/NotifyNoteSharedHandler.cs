namespace Conveyor.Server.SampleJobs;

/// <summary>
/// "Sends" the notification by appending one line to <c>outbox/notifications.log</c> in the sample data directory
/// (<see cref="NotificationOutbox"/>; the side effect a duplicate must not repeat): key, job id, attempt. The
/// idempotency step around it makes a duplicate of a sent notification succeed without sending, and one that arrives
/// while the first is sending wait.
/// </summary>
[Idempotent(FailureMode = IdempotencyFailureMode.FailOpen, KeepDoneForHours = 24)]
public sealed partial class NotifyNoteSharedHandler(NotificationOutbox outbox, TimeProvider timeProvider, ILogger<NotifyNoteSharedHandler> logger) : IJobHandler<NotifyNoteShared>
{
    public async Task HandleAsync(NotifyNoteShared payload, JobContext context, CancellationToken cancellationToken)
    {
        if (payload.NoteId <= 0 || string.IsNullOrWhiteSpace(payload.Recipient) || !payload.Recipient.Contains('@', StringComparison.Ordinal))
        {
            throw new SkipRetryException($"note_id must be positive and recipient an e-mail address; got {payload.NoteId} and '{payload.Recipient}'.");
        }

        if (payload.DelayMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(payload.DelayMs), timeProvider, cancellationToken);
        }

        await outbox.AppendAsync($"{payload.IdempotencyKey}\t{context.JobId}\t{context.Attempt}", cancellationToken);
        LogSent(logger, payload.NoteId, payload.Recipient);
    }

    [LoggerMessage(1205, LogLevel.Information, "Note {note_id}: share notification sent to {recipient}")]
    private static partial void LogSent(ILogger logger, long note_id, string recipient);
}
