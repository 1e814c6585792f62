using System.ComponentModel.DataAnnotations;

namespace Conveyor.Server.SampleJobs;

/// <summary>Builds a CSV report of <see cref="Rows"/> rows (default 1000) in a few seconds. Payload <c>{}</c> or <c>{"rows": 5000}</c>.</summary>
public sealed record GenerateReport(int? Rows) : IJobPayload, IValidatableObject
{
    public const int DefaultRows = 1000;
    public const int MaxRows = 1_000_000;

    public static string JobType => "report:generate";

    /// <summary>Checked when the job is created over HTTP (a 400 before the 202), and by the handler.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Rows is < 1 or > MaxRows)
        {
            yield return new ValidationResult($"must be between 1 and {MaxRows}; it is {Rows}.", [nameof(Rows)]);
        }
    }
}
