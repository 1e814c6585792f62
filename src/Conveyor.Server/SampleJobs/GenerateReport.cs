namespace Conveyor.Server.SampleJobs;

/// <summary>Builds a CSV report of <see cref="Rows"/> rows (default 1000) in a few seconds. Payload <c>{}</c> or <c>{"rows": 5000}</c>.</summary>
public sealed record GenerateReport(int? Rows) : IJobPayload
{
    public const int DefaultRows = 1000;
    public const int MaxRows = 1_000_000;

    public static string JobType => "report:generate";
}
