using System.Globalization;
using System.Text;

namespace Conveyor.Handlers;

/// <summary>
/// The steps that hold a durable wait's or sleep's deadline (<c>WaitForSignalAsync</c>, <c>SleepAsync</c>): stored once,
/// so a later attempt waits for the same time, and shown by the Jobs API as that time.
/// </summary>
internal static class DeadlineSteps
{
    /// <summary>The step that holds the deadline of the job's sleep <paramref name="name"/>.</summary>
    public static string SleepStepName(string name) => "$sleep:" + name;

    /// <summary>A deadline as its step's result: its UTC ticks in decimal.</summary>
    public static ReadOnlyMemory<byte> Write(DateTimeOffset until) =>
        Encoding.ASCII.GetBytes(until.UtcTicks.ToString(CultureInfo.InvariantCulture));

    /// <summary>Reads a result written by <see cref="Write"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> stored, out DateTimeOffset until)
    {
        until = default;
        if (!long.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        until = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}
