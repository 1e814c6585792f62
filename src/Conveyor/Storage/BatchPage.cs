namespace Conveyor.Storage;

/// <summary>One page of batches, newest first. <see cref="NextCursor"/> is null on the last page; it is opaque to callers.</summary>
public sealed record BatchPage(IReadOnlyList<BatchInfo> Batches, string? NextCursor);
