using System.Collections.Concurrent;

namespace Conveyor.Tests.Events;

public sealed record NoteCreated(long NoteId) : IEventPayload
{
    public static string EventType => "note:created";
}

public sealed record NoteArchived(long NoteId) : IEventPayload
{
    public static string EventType => "note:archived";
}

public sealed class EventLog
{
    public ConcurrentQueue<long> Indexed { get; } = new();
}

public sealed class IndexNote(EventLog log) : IEventSubscriber<NoteCreated>
{
    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken)
    {
        log.Indexed.Enqueue(@event.NoteId);
        return Task.CompletedTask;
    }
}

public sealed class NotifyFollowersSubscriber : IEventSubscriber<NoteCreated>
{
    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class FailingSubscriber : IEventSubscriber<NoteCreated>
{
    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the search index is down");
}

public sealed class AuditEverything : IEventSubscriber<NoteCreated>, IEventSubscriber<NoteArchived>
{
    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task HandleAsync(NoteArchived @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

#pragma warning disable CA1707, IDE1006
public sealed class SendHTMLEmailHandler : IEventSubscriber<NoteCreated>
#pragma warning restore CA1707, IDE1006
{
    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
