namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The seed's reference job: archive one note. Payload <c>{"note_id": 42}</c>. Copy this file and
/// <see cref="NoteArchiveHandler"/> to make a new job (see docs/async-jobs.md, "New job checklist").
/// </summary>
public sealed record ArchiveNote(long NoteId) : IJobPayload
{
    public static string JobType => "note:archive";

    /// <summary>The options this job is enqueued with unless the caller says otherwise: three retries, as in the seed.</summary>
    public static JobOptions DefaultOptions { get; } = new() { MaxRetry = 3, Timeout = TimeSpan.FromSeconds(30) };
}
