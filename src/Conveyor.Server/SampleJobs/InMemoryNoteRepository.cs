using System.Collections.Concurrent;

namespace Conveyor.Server.SampleJobs;

/// <summary>The sample's notes: every positive id exists; archiving is remembered (with its time) for the life of the process.</summary>
public sealed class InMemoryNoteRepository(TimeProvider timeProvider) : INoteRepository
{
    private readonly ConcurrentDictionary<long, DateTimeOffset> _archived = new();

    public Task<bool> ArchiveAsync(long noteId, CancellationToken cancellationToken)
    {
        if (noteId <= 0)
        {
            return Task.FromResult(false);
        }

        _archived[noteId] = timeProvider.GetUtcNow();
        return Task.FromResult(true);
    }

    public Task<bool> IsArchivedAsync(long noteId, CancellationToken cancellationToken) =>
        Task.FromResult(_archived.ContainsKey(noteId));

    public Task<int> DeleteArchivedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var (id, archivedAt) in _archived)
        {
            if (archivedAt < cutoff && _archived.TryRemove(id, out _))
            {
                deleted++;
            }
        }

        return Task.FromResult(deleted);
    }
}
