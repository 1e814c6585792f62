using Conveyor;

namespace Notes.Adapters.Jobs;

/// <summary>
/// The note:archive job's payload, <c>{"note_id": 42}</c>: the note's id, not the note (it is read when the job runs).
/// The reference job: copy this file and <see cref="NoteArchiveHandler"/> to make a new one (docs/async-jobs.md,
/// "New job checklist").
/// </summary>
public sealed record ArchiveNote(long NoteId) : IJobPayload
{
    public static string JobType => JobTypes.NoteArchive;

    /// <summary>The options the job is enqueued with: three retries, thirty seconds per attempt.</summary>
    public static JobOptions DefaultOptions { get; } = new() { MaxRetry = 3, Timeout = TimeSpan.FromSeconds(30) };
}
