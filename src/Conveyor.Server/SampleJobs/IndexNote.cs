namespace Conveyor.Server.SampleJobs;

/// <summary>Adds a new note to the search index (here: a log line). Subscribed on <c>default</c>, 5 retries, 30 s per attempt.</summary>
public sealed partial class IndexNote(ILogger<IndexNote> logger) : IEventSubscriber<NoteCreated>
{
    public static SubscriberOptions Options { get; } = new() { MaxRetry = 5, Timeout = TimeSpan.FromSeconds(30) };

    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken)
    {
        if (@event.NoteId <= 0)
        {
            throw new SkipRetryException($"note_id must be a positive number; got {@event.NoteId}.");
        }

        LogIndexed(logger, @event.NoteId);
        return Task.CompletedTask;
    }

    [LoggerMessage(1200, LogLevel.Information, "Note {note_id} indexed")]
    private static partial void LogIndexed(ILogger logger, long note_id);
}
