namespace Conveyor.Storage;

/// <summary>One page of jobs. <see cref="NextCursor"/> is null on the last page; it is opaque to callers.</summary>
public sealed record JobPage(IReadOnlyList<JobInfo> Jobs, string? NextCursor);
