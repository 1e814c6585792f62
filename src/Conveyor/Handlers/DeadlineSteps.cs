using System.Globalization;
using System.Text;
using Conveyor.Storage;

namespace Conveyor.Handlers;

/// <summary>
/// The steps that hold a durable wait's or sleep's deadline (<c>WaitForSignalAsync</c>, <c>SleepAsync</c>): stored once,
/// so a later attempt waits for the same time, and shown by the Jobs API as that time. Deadlines are kept to the
/// microsecond, as every store keeps times (<see cref="AtStorePrecision"/>).
/// </summary>
internal static class DeadlineSteps
{
    /// <summary>The step that holds the deadline of the job's sleep <paramref name="name"/>.</summary>
    public static string SleepStepName(string name) => "$sleep:" + name;

    /// <summary>A deadline as its step's result: its UTC ticks in decimal, at the stores' precision.</summary>
    public static ReadOnlyMemory<byte> Write(DateTimeOffset until) =>
        Encoding.ASCII.GetBytes(AtStorePrecision(until).UtcTicks.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// <paramref name="time"/> in whole microseconds since the Unix epoch, as every store keeps and compares times
    /// (<see cref="JobCursor.ToUnixMicroseconds"/>). A handler compares its deadlines at this precision, so that one
    /// has passed by its measure exactly when it has by the store's: a deadline a few ticks into the clock's
    /// microsecond would otherwise end a park by the store's clock and not by the handler's, which would park again
    /// until the clock moved on.
    /// </summary>
    public static DateTimeOffset AtStorePrecision(DateTimeOffset time) =>
        DateTimeOffset.UnixEpoch.AddTicks(JobCursor.ToUnixMicroseconds(time) * TimeSpan.TicksPerMicrosecond);

    /// <summary>Reads a result written by <see cref="Write"/> (at the stores' precision, whatever an earlier version wrote).</summary>
    public static bool TryRead(ReadOnlySpan<byte> stored, out DateTimeOffset until)
    {
        until = default;
        if (!long.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        until = AtStorePrecision(new DateTimeOffset(ticks, TimeSpan.Zero));
        return true;
    }
}
