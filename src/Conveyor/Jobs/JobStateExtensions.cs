namespace Conveyor;

/// <summary>Names of <see cref="JobState"/> in the HTTP API and in storage.</summary>
public static class JobStateExtensions
{
    /// <summary>True for the states a job never leaves on its own: succeeded, partial, failed, cancelled.</summary>
    public static bool IsFinished(this JobState state) =>
        state is JobState.Succeeded or JobState.Partial or JobState.Failed or JobState.Cancelled;

    /// <summary>The status name of the HTTP Jobs API (seed 004): QUEUED, RUNNING, SUCCESS…</summary>
    internal static string ToApiStatus(this JobState state) => state switch
    {
        JobState.Scheduled => "SCHEDULED",
        JobState.Pending => "QUEUED",
        JobState.Active => "RUNNING",
        JobState.Retrying => "RETRYING",
        JobState.Succeeded => "SUCCESS",
        JobState.Partial => "PARTIAL_SUCCESS",
        JobState.Failed => "FAILED",
        JobState.Cancelled => "CANCELLED",
        JobState.Waiting => "WAITING",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Parses an API status name (case-insensitive).</summary>
    internal static bool TryParseApiStatus(string? status, out JobState state)
    {
        foreach (var candidate in Enum.GetValues<JobState>())
        {
            if (string.Equals(candidate.ToApiStatus(), status, StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }

    /// <summary>The lowercase name stores use in their rows and keys ("pending", "active"…).</summary>
    public static string ToStorageName(this JobState state) => state switch
    {
        JobState.Scheduled => "scheduled",
        JobState.Pending => "pending",
        JobState.Active => "active",
        JobState.Retrying => "retrying",
        JobState.Succeeded => "succeeded",
        JobState.Partial => "partial",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        JobState.Waiting => "waiting",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>The inverse of <see cref="ToStorageName"/>.</summary>
    public static JobState FromStorageName(string name) => name switch
    {
        "scheduled" => JobState.Scheduled,
        "pending" => JobState.Pending,
        "active" => JobState.Active,
        "retrying" => JobState.Retrying,
        "succeeded" => JobState.Succeeded,
        "partial" => JobState.Partial,
        "failed" => JobState.Failed,
        "cancelled" => JobState.Cancelled,
        "waiting" => JobState.Waiting,
        _ => throw new FormatException($"'{name}' is not a job state."),
    };
}
