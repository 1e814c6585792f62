using Conveyor;
using Notes.UseCases.Ports;

namespace Notes.Adapters.Jobs;

/// <summary>The use cases' <see cref="INoteJobs"/> port over Conveyor: each request is a job on its queue.</summary>
public sealed class ConveyorNoteJobs(IJobClient jobs) : INoteJobs
{
    public async Task<string> EnqueueArchiveAsync(long noteId, CancellationToken cancellationToken)
    {
        var result = await jobs.EnqueueDefaultAsync(new ArchiveNote(noteId), ArchiveNote.DefaultOptions, cancellationToken).ConfigureAwait(false);
        return result.JobId;
    }
}
