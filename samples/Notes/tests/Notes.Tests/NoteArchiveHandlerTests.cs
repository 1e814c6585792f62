using Conveyor;
using Conveyor.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notes.Adapters.Jobs;
using Notes.UseCases;

namespace Notes.Tests;

/// <summary>The reference job's handler on its own: a <see cref="TestJobContext"/>, the real use case, a fake repository.</summary>
public sealed class NoteArchiveHandlerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemoryNoteRepository _notes = new();

    private NoteArchiveHandler Handler() =>
        new(new ArchiveNoteUseCase(_notes, new FakeTimeProvider(Now)), NullLogger<NoteArchiveHandler>.Instance);

    [Fact]
    public async Task ANote_IsArchivedAtTheClocksInstant()
    {
        var note = await _notes.AddAsync("groceries", CancellationToken.None);
        var payload = new ArchiveNote(note.Id);

        await Handler().HandleAsync(payload, TestJobContext.Create(payload).Context, CancellationToken.None);

        Assert.Equal(Now, (await _notes.FindAsync(note.Id, CancellationToken.None))!.ArchivedAt);
    }

    [Fact]
    public async Task ANoteArchivedAlready_SucceedsWithoutChangingIt()
    {
        var note = await _notes.AddAsync("groceries", CancellationToken.None);
        note.Archive(Now.AddDays(-1));
        var payload = new ArchiveNote(note.Id);

        await Handler().HandleAsync(payload, TestJobContext.Create(payload, new TestJobOptions { Attempt = 2 }).Context, CancellationToken.None);

        Assert.Equal(Now.AddDays(-1), (await _notes.FindAsync(note.Id, CancellationToken.None))!.ArchivedAt);
    }

    [Theory]
    [InlineData(0, "note_id must be a positive number; got 0.")]
    [InlineData(-5, "note_id must be a positive number; got -5.")]
    [InlineData(4242, "Note 4242 does not exist.")]
    public async Task WhatRetryingCannotFix_IsNotRetried(long noteId, string message)
    {
        var payload = new ArchiveNote(noteId);

        var error = await Assert.ThrowsAsync<SkipRetryException>(() => Handler().HandleAsync(payload, TestJobContext.Create(payload).Context, CancellationToken.None));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task ADatabaseThatDoesNotAnswer_IsLeftToRetry()
    {
        var note = await _notes.AddAsync("groceries", CancellationToken.None);
        _notes.FailuresLeft = 1;
        var payload = new ArchiveNote(note.Id);

        await Assert.ThrowsAsync<TimeoutException>(() => Handler().HandleAsync(payload, TestJobContext.Create(payload).Context, CancellationToken.None));
    }

    [Fact]
    public void ThePayload_IsTheSeedsJson()
    {
        Assert.Equal("note:archive", ArchiveNote.JobType);
        Assert.Equal(3, ArchiveNote.DefaultOptions.MaxRetry);
        Assert.Equal("""{"note_id":42}""", System.Text.Encoding.UTF8.GetString(TestJobContext.Create(new ArchiveNote(42)).Context.Payload.Span));
    }
}
