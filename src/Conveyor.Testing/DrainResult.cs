namespace Conveyor.Testing;

/// <summary>What one <see cref="ConveyorTestHost.DrainAsync"/> ran, by how each attempt ended.</summary>
public sealed record DrainResult
{
    /// <summary>Attempts that ended in success (partial success included).</summary>
    public int Succeeded { get; init; }

    /// <summary>Attempts that failed and left the job a retry, due after its backoff (move <see cref="ConveyorTestHost.Time"/> to run it).</summary>
    public int Retried { get; init; }

    /// <summary>Attempts that failed for good (no retry left, or <see cref="SkipRetryException"/>).</summary>
    public int Failed { get; init; }

    /// <summary>Attempts that ended otherwise: cancelled, snoozed (an unknown job type), or released.</summary>
    public int Other { get; init; }

    /// <summary>Every attempt run.</summary>
    public int Attempts => Succeeded + Retried + Failed + Other;
}
