using Notes.UseCases;
using Notes.UseCases.Ports;

namespace Notes.Tests;

/// <summary>The API's use case with a fake of the jobs port: no Conveyor needed to test what it decides.</summary>
public sealed class RequestNoteArchiveUseCaseTests
{
    private readonly InMemoryNoteRepository _notes = new();
    private readonly RecordingNoteJobs _jobs = new();

    [Fact]
    public async Task ANote_IsQueuedForArchiving()
    {
        var note = await _notes.AddAsync("groceries", CancellationToken.None);

        var (outcome, jobId) = await new RequestNoteArchiveUseCase(_notes, _jobs).ExecuteAsync(note.Id, CancellationToken.None);

        Assert.Equal((ArchiveRequestOutcome.Queued, "job_1"), (outcome, jobId));
        Assert.Equal([note.Id], _jobs.Archives);
    }

    [Fact]
    public async Task AMissingOrArchivedNote_EnqueuesNothing()
    {
        var archived = await _notes.AddAsync("old", CancellationToken.None);
        archived.Archive(DateTimeOffset.UnixEpoch);
        var useCase = new RequestNoteArchiveUseCase(_notes, _jobs);

        Assert.Equal((ArchiveRequestOutcome.AlreadyArchived, null), await useCase.ExecuteAsync(archived.Id, CancellationToken.None));
        Assert.Equal((ArchiveRequestOutcome.NotFound, null), await useCase.ExecuteAsync(99, CancellationToken.None));
        Assert.Empty(_jobs.Archives);
    }

    private sealed class RecordingNoteJobs : INoteJobs
    {
        public List<long> Archives { get; } = [];

        public Task<string> EnqueueArchiveAsync(long noteId, CancellationToken cancellationToken)
        {
            Archives.Add(noteId);
            return Task.FromResult("job_" + Archives.Count);
        }
    }
}
