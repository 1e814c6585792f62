namespace Conveyor;

/// <summary>
/// An event that <see cref="IEventPublisher"/> fans out to its subscribers, one job each. It names its event type,
/// <c>{domain}:{action}</c> in the past tense, as a job payload names its job type:
/// <code>public sealed record NoteCreated(long NoteId) : IEventPayload { public static string EventType => "note:created"; }</code>
/// </summary>
public interface IEventPayload
{
    /// <summary>The event type, <c>{domain}:{action}</c> (the rules of <see cref="JobType"/>), e.g. <c>note:created</c>.</summary>
    static abstract string EventType { get; }
}
