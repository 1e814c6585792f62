namespace Conveyor.Server.SampleJobs;

/// <summary>
/// An idempotent job: tell a recipient that a note was shared with them, once, however many times the job is
/// enqueued or run. Payload <c>{"note_id": 42, "recipient": "ada@example.com"}</c>; the key is the note and the
/// recipient. <c>delay_ms</c> stands for a slow mail server (0 by default).
/// </summary>
public sealed record NotifyNoteShared(long NoteId, string Recipient, int DelayMs = 0) : IJobPayload, IIdempotentJob
{
    public static string JobType => "note:notify";

    /// <summary>Two jobs for the same note and recipient are the same notification.</summary>
    public string IdempotencyKey => $"note-{NoteId}-to-{Recipient}";
}
