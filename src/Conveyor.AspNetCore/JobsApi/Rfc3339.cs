using System.Globalization;
using System.Text.RegularExpressions;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>RFC 3339 timestamps: parsed strictly from requests, written in UTC with microseconds and a 'Z'.</summary>
internal static partial class Rfc3339
{
    /// <summary>What a request is told of a timestamp that has the right form but no instant it can be stored as.</summary>
    public const string OutOfRange = "has the form of an RFC 3339 date-time but is no instant between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z";

    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", CultureInfo.InvariantCulture);

    public static string? Format(DateTimeOffset? value) => value is { } v ? Format(v) : null;

    /// <summary>
    /// True for a full RFC 3339 date-time with an offset (<c>2026-11-22T16:00:00Z</c>, <c>…+01:00</c>). A fraction of any
    /// length is read to the tick (100 ns) and the rest dropped; a leap second (<c>23:59:60Z</c>; second 60 of whichever
    /// minute the offset makes it) is the start of the next minute, as the clocks the server reads never show one.
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null
            && Pattern().Match(text) is { Success: true } match
            && TryParse(match, out value);
    }

    private static bool TryParse(Match match, out DateTimeOffset value)
    {
        var leap = match.Groups["second"].ValueSpan is "60";
        var fraction = match.Groups["fraction"].ValueSpan;
        var text = $"{LocalTime(match)}{fraction[..Math.Min(fraction.Length, 8)]}{match.Groups["offset"].ValueSpan}";
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value))
        {
            return false;
        }

        if (!leap)
        {
            return true;
        }

        // In UTC, whose clock has the next second for every instant but the last: 9999-12-31T23:59:60+14:00 is in range,
        // but its local clock has no next second. Every time the API writes is in UTC anyway.
        value = value.ToUniversalTime();
        if (value.UtcDateTime > DateTime.MaxValue.AddSeconds(-1))
        {
            return false;
        }

        value = value.AddSeconds(1);
        return true;
    }

    /// <summary>
    /// True when <paramref name="text"/> is a valid RFC 3339 date-time (a real date and time of day, an offset within
    /// ±14:00) that names no instant between 0001-01-01 and 9999-12-31 UTC, such as 0001-01-01T00:00:00+01:00: its error
    /// names the range, not the form.
    /// </summary>
    public static bool IsFormedButOutOfRange(string? text)
    {
        if (text is null || Pattern().Match(text) is not { Success: true } match || TryParse(match, out _))
        {
            return false;
        }

        var offset = match.Groups["offset"].Value;
        var offsetFits = offset is "Z" or "z"
            || (int.Parse(offset.AsSpan(4, 2), CultureInfo.InvariantCulture) is var minutes && minutes < 60
                && (int.Parse(offset.AsSpan(1, 2), CultureInfo.InvariantCulture) * 60) + minutes <= 14 * 60);
        return offsetFits && DateTime.TryParse(LocalTime(match), CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
    }

    /// <summary>The date and the time of day to the second, a leap second read as second 59 (TryParse adds it back).</summary>
    private static string LocalTime(Match match) =>
        $"{match.Groups["minute"].ValueSpan}:{(match.Groups["second"].ValueSpan is "60" ? "59" : match.Groups["second"].ValueSpan)}";

    // ASCII digits only ([0-9], not \d), and \z: '$' would let a trailing newline through.
    [GeneratedRegex(@"^(?<minute>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}):(?<second>[0-9]{2})(?<fraction>\.[0-9]+)?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
