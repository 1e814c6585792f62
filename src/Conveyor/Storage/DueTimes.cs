namespace Conveyor.Storage;

/// <summary>The rounding of <see cref="IJobQueueStore.ListDueTimesAsync"/>, in whole microseconds as the stores keep times.</summary>
internal static class DueTimes
{
    /// <summary>The resolution in microseconds; at least one.</summary>
    public static long Step(TimeSpan resolution)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, TimeSpan.FromMicroseconds(1));
        return resolution.Ticks / TimeSpan.TicksPerMicrosecond;
    }

    /// <summary>Unix microseconds rounded up to a whole multiple of <paramref name="step"/>.</summary>
    public static long RoundUp(long microseconds, long step) => (microseconds + step - 1) / step * step;

    public static DateTimeOffset RoundUp(DateTimeOffset time, long step) =>
        FromMicroseconds(RoundUp((time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks + TimeSpan.TicksPerMicrosecond - 1) / TimeSpan.TicksPerMicrosecond, step));

    public static DateTimeOffset FromMicroseconds(long microseconds) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (microseconds * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);
}
