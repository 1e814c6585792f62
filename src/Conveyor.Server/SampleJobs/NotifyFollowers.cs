namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Tells the author's followers about a new note (here: a log line). Subscribed on <c>default</c>, the queue of
/// <see cref="IndexNote"/> (a publish spans one queue, so that it works on a Redis Cluster too), with 3 retries of its
/// own: a slow or failing notification never holds up the note's indexing, which is a job of its own.
/// </summary>
public sealed partial class NotifyFollowers(ILogger<NotifyFollowers> logger) : IEventSubscriber<NoteCreated>
{
    public static SubscriberOptions Options { get; } = new() { MaxRetry = 3 };

    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken)
    {
        LogNotified(logger, @event.NoteId);
        return Task.CompletedTask;
    }

    [LoggerMessage(1204, LogLevel.Information, "Followers notified of note {note_id}")]
    private static partial void LogNotified(ILogger logger, long note_id);
}
