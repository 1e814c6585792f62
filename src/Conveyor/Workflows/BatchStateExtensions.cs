namespace Conveyor;

/// <summary>Names of <see cref="BatchState"/> in the HTTP API and in storage.</summary>
public static class BatchStateExtensions
{
    /// <summary>The status name of the HTTP API: RUNNING, SUCCESS, COMPLETED, CANCELLED.</summary>
    internal static string ToApiStatus(this BatchState state) => state switch
    {
        BatchState.Running => "RUNNING",
        BatchState.Succeeded => "SUCCESS",
        BatchState.Completed => "COMPLETED",
        BatchState.Cancelled => "CANCELLED",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>The lowercase name stores use ("running", "succeeded", "completed", "cancelled").</summary>
    public static string ToStorageName(this BatchState state) => state switch
    {
        BatchState.Running => "running",
        BatchState.Succeeded => "succeeded",
        BatchState.Completed => "completed",
        BatchState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>The inverse of <see cref="ToStorageName"/>.</summary>
    public static BatchState FromStorageName(string name) => name switch
    {
        "running" => BatchState.Running,
        "succeeded" => BatchState.Succeeded,
        "completed" => BatchState.Completed,
        "cancelled" => BatchState.Cancelled,
        _ => throw new FormatException($"'{name}' is not a batch state."),
    };
}
