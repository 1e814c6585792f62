namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Imports inventory rows into the server's own database. Payload
/// <c>{"format": "csv", "data": "sku,qty\nA-1,5\nB-2,3\n"}</c>: a header line, then one <c>sku,qty</c> per line.
/// </summary>
public sealed record BulkImport(string? Format, string? Data) : IJobPayload
{
    public static string JobType => "bulk:import";
}
