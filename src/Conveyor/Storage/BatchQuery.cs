namespace Conveyor.Storage;

/// <summary>
/// A page of one tenant's batches (or only its workflows), or of every tenant's for an operator, newest first,
/// optionally of one state.
/// </summary>
public sealed record BatchQuery
{
    /// <summary>
    /// The tenant whose batches are listed, or null for every tenant's (what an operator may see). Required, so that no
    /// query lists every tenant's by leaving it out.
    /// </summary>
    public required string? Tenant { get; init; }

    /// <summary>Only batches in this state; null for every state.</summary>
    public BatchState? State { get; init; }

    /// <summary>Only workflows (batches started with a <see cref="WorkflowDefinition"/>), not plain batches.</summary>
    public bool WorkflowsOnly { get; init; }

    /// <summary>Page size, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="BatchPage.NextCursor"/> of the previous page, or null for the first page.</summary>
    public string? Cursor { get; init; }

    /// <summary>The largest page a query may ask for.</summary>
    public const int MaxLimit = 1000;
}
