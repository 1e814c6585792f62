namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The fan-out sample's event: a note was created. Each subscriber (<see cref="IndexNote"/>, <see cref="NotifyFollowers"/>)
/// gets a job of its own, <c>note:created.index-note</c> and <c>note:created.notify-followers</c>.
/// </summary>
public sealed record NoteCreated(long NoteId) : IEventPayload
{
    public static string EventType => "note:created";
}
