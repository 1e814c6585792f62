namespace Conveyor.Storage;

/// <summary>A page of one tenant's jobs, newest first, optionally filtered.</summary>
public sealed record JobQuery
{
    public required string Tenant { get; init; }

    public JobState? State { get; init; }

    public string? Type { get; init; }

    public string? Queue { get; init; }

    /// <summary>Page size, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="JobPage.NextCursor"/> of the previous page, or null for the first page.</summary>
    public string? Cursor { get; init; }

    public const int MaxLimit = 1000;
}
