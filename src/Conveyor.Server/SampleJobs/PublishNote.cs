using System.ComponentModel.DataAnnotations;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// A note published only once an editor approves it: the job asks for a review, then waits (slot-free, up to two days)
/// for the signal <c>approved</c> (<c>POST /jobs/{id}/signals/approved</c> with any JSON, e.g. <c>{"by": "ada"}</c>),
/// then publishes. Payload <c>{"note_id": 42}</c>; <c>delay_ms</c> stands for a slow publishing system (0 by default);
/// <c>review_seconds</c> shortens the wait (1 to 172,800), to watch a wait time out: the note is then not published.
/// </summary>
public sealed record PublishNote(long NoteId, int DelayMs = 0, int? ReviewSeconds = null) : IJobPayload, IValidatableObject
{
    public static string JobType => "note:publish";

    /// <summary>Checked when the job is created over HTTP (a 400 before the 202), and by the handler.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ReviewSeconds is < 1 || ReviewSeconds > PublishNoteHandler.ReviewTime.TotalSeconds)
        {
            yield return new ValidationResult($"must be between 1 and {(int)PublishNoteHandler.ReviewTime.TotalSeconds}; it is {ReviewSeconds}.", [nameof(ReviewSeconds)]);
        }
    }
}
