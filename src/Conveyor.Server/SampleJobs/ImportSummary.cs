namespace Conveyor.Server.SampleJobs;

/// <summary>The stored result of an import: rows imported and rows refused (each refused row is an item error).</summary>
public sealed record ImportSummary(int Imported, int Rejected);
