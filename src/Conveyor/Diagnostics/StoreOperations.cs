namespace Conveyor.Diagnostics;

/// <summary>
/// The <c>operation</c> of <c>job_store_unavailable_total</c>: the server's store calls that log event 6 (as its
/// <c>{operation}</c> says them, in snake_case), the background components that log event 60 (their name, in
/// snake_case) and <c>api</c> for the Jobs API's 503s (event 1005). A fixed set, whatever the store or the jobs.
/// </summary>
internal static class StoreOperations
{
    public const string Open = "open";
    public const string Start = "start";
    public const string Limits = "limits";
    public const string Acknowledge = "acknowledge";
    public const string RatePermits = "rate_permits";
    public const string Dequeue = "dequeue";
    public const string Api = "api";

    /// <summary>The job server's own calls, created at 0 when it starts.</summary>
    public static readonly string[] Server = [Open, Start, Limits, Acknowledge, RatePermits, Dequeue];

    /// <summary>A component's name as its label: "Lease extender" is <c>lease_extender</c>.</summary>
    public static string OfComponent(string name) =>
        string.Create(name.Length, name, static (label, name) =>
        {
            for (var i = 0; i < name.Length; i++)
            {
                label[i] = name[i] == ' ' ? '_' : char.ToLowerInvariant(name[i]);
            }
        });
}
