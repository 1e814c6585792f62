namespace Conveyor.Storage;

/// <summary>The checks and normal form every store applies to a <see cref="LimitRecord"/> it is given.</summary>
public static class LimitRecords
{
    /// <summary>Throws for a record no store can keep: no name or queue, an unknown kind or source.</summary>
    /// <exception cref="ArgumentException">The record is not one.</exception>
    public static void Validate(LimitRecord limit)
    {
        ArgumentNullException.ThrowIfNull(limit);
        ArgumentException.ThrowIfNullOrEmpty(limit.Name, nameof(limit));
        ArgumentException.ThrowIfNullOrEmpty(limit.Queue, nameof(limit));
        if (!Enum.IsDefined(limit.Kind) || !Enum.IsDefined(limit.Source))
        {
            throw new ArgumentOutOfRangeException(nameof(limit), "Unknown limit kind or source.");
        }
    }

    /// <summary>The record as every store reads it back: the period in whole microseconds, no period or burst for a concurrency limit.</summary>
    public static LimitRecord Normalize(LimitRecord limit) => limit.Kind == LimitKind.Concurrency
        ? limit with { Period = TimeSpan.Zero, Burst = 0 }
        : limit with { Period = TimeSpan.FromMicroseconds(limit.Period.Ticks / TimeSpan.TicksPerMicrosecond) };
}
