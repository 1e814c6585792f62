using System.Collections.Concurrent;

namespace Conveyor.Server.SampleJobs;

/// <summary>The sample's notes: every positive id exists; archiving is remembered for the life of the process.</summary>
public sealed class InMemoryNoteRepository : INoteRepository
{
    private readonly ConcurrentDictionary<long, bool> _archived = new();

    public Task<bool> ArchiveAsync(long noteId, CancellationToken cancellationToken)
    {
        if (noteId <= 0)
        {
            return Task.FromResult(false);
        }

        _archived[noteId] = true;
        return Task.FromResult(true);
    }

    public Task<bool> IsArchivedAsync(long noteId, CancellationToken cancellationToken) =>
        Task.FromResult(_archived.ContainsKey(noteId));
}
