using Notes.Domain;

namespace Notes.Tests;

/// <summary>The notes port over a dictionary, for tests; <see cref="FailuresLeft"/> makes the next reads fail as a database that is down.</summary>
public sealed class InMemoryNoteRepository : INoteRepository
{
    private readonly Dictionary<long, Note> _notes = [];

    public int FailuresLeft { get; set; }

    public Task<Note> AddAsync(string title, CancellationToken cancellationToken)
    {
        var note = new Note(_notes.Count + 1, title);
        _notes.Add(note.Id, note);
        return Task.FromResult(note);
    }

    public Task<Note?> FindAsync(long id, CancellationToken cancellationToken)
    {
        if (FailuresLeft > 0)
        {
            FailuresLeft--;
            throw new TimeoutException("the notes database did not answer");
        }

        return Task.FromResult(_notes.GetValueOrDefault(id));
    }

    public Task SaveAsync(Note note, CancellationToken cancellationToken)
    {
        _notes[note.Id] = note;
        return Task.CompletedTask;
    }
}
