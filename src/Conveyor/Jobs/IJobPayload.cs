namespace Conveyor;

/// <summary>
/// A typed job payload that names its job type, so enqueue and dispatch need no string and no reflection:
/// <code>public sealed record ArchiveNote(long NoteId) : IJobPayload { public static string JobType => "note:archive"; }</code>
/// </summary>
public interface IJobPayload
{
    /// <summary>The job type, <c>{domain}:{action}</c>.</summary>
    static abstract string JobType { get; }
}
