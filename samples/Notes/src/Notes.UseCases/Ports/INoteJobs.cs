namespace Notes.UseCases.Ports;

/// <summary>
/// The background work the use cases ask for (a port: Notes.Adapters implements it with Conveyor's IJobClient, so the
/// use cases neither know nor test the job queue).
/// </summary>
public interface INoteJobs
{
    /// <summary>Asks for the note to be archived in the background; returns the job's id.</summary>
    Task<string> EnqueueArchiveAsync(long noteId, CancellationToken cancellationToken);
}
