using Notes.Domain;

namespace Notes.UseCases;

/// <summary>Creates a note (called by the API).</summary>
public sealed class CreateNoteUseCase(INoteRepository notes)
{
    public async Task<Note> ExecuteAsync(string title, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        return await notes.AddAsync(title.Trim(), cancellationToken).ConfigureAwait(false);
    }
}
