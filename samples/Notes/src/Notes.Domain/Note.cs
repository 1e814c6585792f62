namespace Notes.Domain;

/// <summary>A note. Archiving is the one rule the sample needs: it happens once, at a known instant.</summary>
public sealed class Note(long id, string title, DateTimeOffset? archivedAt = null)
{
    public long Id { get; } = id;

    public string Title { get; } = title;

    public DateTimeOffset? ArchivedAt { get; private set; } = archivedAt;

    public bool IsArchived => ArchivedAt is not null;

    /// <summary>Archives the note at <paramref name="now"/>; false (and no change) if it was archived already.</summary>
    public bool Archive(DateTimeOffset now)
    {
        if (IsArchived)
        {
            return false;
        }

        ArchivedAt = now;
        return true;
    }
}
