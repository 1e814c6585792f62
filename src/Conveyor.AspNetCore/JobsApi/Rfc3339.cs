using System.Globalization;
using System.Text.RegularExpressions;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>RFC 3339 timestamps: parsed strictly from requests, written in UTC with microseconds and a 'Z'.</summary>
internal static partial class Rfc3339
{
    /// <summary>What a request is told of a timestamp that has the right form but no instant it can be stored as.</summary>
    public const string OutOfRange = "has the form of an RFC 3339 date-time but is no instant between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z";

    public static string Format(DateTimeOffset value) => InstantText.Format(value);

    public static string? Format(DateTimeOffset? value) => value is { } v ? Format(v) : null;

    /// <summary>
    /// True for a full RFC 3339 date-time with an offset (<c>2026-11-22T16:00:00Z</c>, <c>…+01:00</c>, any offset to
    /// ±23:59 as RFC 3339 allows, where .NET's own stops at ±14:00), as the instant in UTC. A fraction of any length is
    /// read to the tick (100 ns) and the rest dropped; a leap second (<c>23:59:60Z</c>; second 60 of whichever minute the
    /// offset makes it) is the start of the next minute, as the clocks the server reads never show one.
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (text is null || Pattern().Match(text) is not { Success: true } match || Read(match) is not { } utc || utc.InRange is false)
        {
            return false;
        }

        value = new DateTimeOffset(utc.Ticks, TimeSpan.Zero);
        return true;
    }

    /// <summary>
    /// True when <paramref name="text"/> is a valid RFC 3339 date-time (a real date and time of day, an offset within
    /// ±23:59) that names no instant between 0001-01-01 and 9999-12-31 UTC, such as 0001-01-01T00:00:00+01:00: its error
    /// names the range, not the form.
    /// </summary>
    public static bool IsFormedButOutOfRange(string? text) =>
        text is not null && Pattern().Match(text) is { Success: true } match && Read(match) is { InRange: false };

    /// <summary>
    /// The instant a matched date-time names, in UTC ticks, and whether it is one DateTime can hold; null when the date,
    /// the time of day or the offset is not a real one (2026-02-30, 25:00, +24:00).
    /// </summary>
    private static (long Ticks, bool InRange)? Read(Match match)
    {
        var fraction = match.Groups["fraction"].ValueSpan;
        if (!DateTime.TryParse($"{LocalTime(match)}{fraction[..Math.Min(fraction.Length, 8)]}", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return null;
        }

        var offset = match.Groups["offset"].ValueSpan;
        var offsetMinutes = 0;
        if (offset is not ("Z" or "z"))
        {
            var hours = int.Parse(offset.Slice(1, 2), CultureInfo.InvariantCulture);
            var minutes = int.Parse(offset.Slice(4, 2), CultureInfo.InvariantCulture);
            if (hours > 23 || minutes > 59)
            {
                return null;
            }

            offsetMinutes = (offset[0] == '-' ? -1 : 1) * ((hours * 60) + minutes);
        }

        var leap = match.Groups["second"].ValueSpan is "60" ? TimeSpan.TicksPerSecond : 0;
        var ticks = local.Ticks - (offsetMinutes * TimeSpan.TicksPerMinute) + leap;
        return (ticks, ticks >= 0 && ticks <= DateTime.MaxValue.Ticks);
    }

    /// <summary>The date and the time of day to the second, a leap second read as second 59 (TryParse adds it back).</summary>
    private static string LocalTime(Match match) =>
        $"{match.Groups["minute"].ValueSpan}:{(match.Groups["second"].ValueSpan is "60" ? "59" : match.Groups["second"].ValueSpan)}";

    // ASCII digits only ([0-9], not \d), and \z: '$' would let a trailing newline through.
    [GeneratedRegex(@"^(?<minute>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}):(?<second>[0-9]{2})(?<fraction>\.[0-9]+)?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
