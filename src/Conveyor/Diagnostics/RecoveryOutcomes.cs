namespace Conveyor.Diagnostics;

/// <summary>The <c>outcome</c> label of <c>job_lease_recoveries_total</c>: what the recovery made of its job.</summary>
internal static class RecoveryOutcomes
{
    public const string Requeued = "requeued";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Requeued, Failed, Cancelled];

    public static string Of(JobState newState) => newState switch
    {
        JobState.Failed => Failed,
        JobState.Cancelled => Cancelled,
        _ => Requeued,
    };
}
