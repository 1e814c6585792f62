namespace Conveyor.Server.SampleJobs;

/// <summary>One imported inventory row.</summary>
public sealed record InventoryRow(string Sku, int Quantity);
