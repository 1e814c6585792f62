using Conveyor.Server.SampleJobs;
using Conveyor.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conveyor.Server.Tests.SampleJobs;

public sealed class NoteArchiveHandlerTests
{
    private static (NoteArchiveHandler Sut, FakeNotes Notes) CreateSut()
    {
        var notes = new FakeNotes();
        return (new NoteArchiveHandler(notes, NullLogger<NoteArchiveHandler>.Instance), notes);
    }

    private static Task Run(NoteArchiveHandler sut, ArchiveNote payload) =>
        sut.HandleAsync(payload, TestJobContext.Create(payload).Context, CancellationToken.None);

    [Fact]
    public async Task HandleAsync_ExistingNote_ArchivesIt()
    {
        var (sut, notes) = CreateSut();

        await Run(sut, new ArchiveNote(42));

        Assert.Equal([42L], notes.Archived);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-7)]
    public async Task HandleAsync_NoteIdNotPositive_FailsWithoutRetry(long noteId)
    {
        var (sut, notes) = CreateSut();

        var error = await Assert.ThrowsAsync<SkipRetryException>(() => Run(sut, new ArchiveNote(noteId)));

        Assert.Contains("note_id", error.Message, StringComparison.Ordinal);
        Assert.Empty(notes.Archived);
    }

    [Fact]
    public async Task HandleAsync_MissingNote_FailsWithoutRetry()
    {
        var (sut, notes) = CreateSut();
        notes.Missing.Add(9);

        var error = await Assert.ThrowsAsync<SkipRetryException>(() => Run(sut, new ArchiveNote(9)));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_RepositoryFailure_IsLeftToRetry()
    {
        var (sut, notes) = CreateSut();
        notes.FailWith = new TimeoutException("database busy");

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Run(sut, new ArchiveNote(1)));

        Assert.False(SkipRetryException.IsSkipRetry(error));
    }

    [Fact]
    public void ArchiveNote_IsNamedAfterItsDomainAndAction_AndRetriesThreeTimes()
    {
        Assert.Equal("note:archive", ArchiveNote.JobType);
        Assert.True(JobType.IsValid(ArchiveNote.JobType));
        Assert.Equal(3, ArchiveNote.DefaultOptions.MaxRetry);
    }

    private sealed class FakeNotes : INoteRepository
    {
        public Task<int> DeleteArchivedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => Task.FromResult(0);

        public List<long> Archived { get; } = [];

        public HashSet<long> Missing { get; } = [];

        public Exception? FailWith { get; set; }

        public Task<bool> ArchiveAsync(long noteId, CancellationToken cancellationToken)
        {
            if (FailWith is not null)
            {
                throw FailWith;
            }

            if (noteId <= 0 || Missing.Contains(noteId))
            {
                return Task.FromResult(false);
            }

            Archived.Add(noteId);
            return Task.FromResult(true);
        }

        public Task<bool> IsArchivedAsync(long noteId, CancellationToken cancellationToken) => Task.FromResult(Archived.Contains(noteId));
    }
}
