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

    /// <summary>True for a full RFC 3339 date-time with an offset (<c>2026-11-22T16:00:00Z</c>, <c>…+01:00</c>).</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null
            && Pattern().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out value);
    }

    /// <summary>
    /// True when <paramref name="text"/> has the form of an RFC 3339 date-time but names no instant between
    /// 0001-01-01 and 9999-12-31 UTC (a 13th month, a year 0001 east of UTC): its error names the range, not the form.
    /// </summary>
    public static bool IsFormedButOutOfRange(string? text) =>
        text is not null && Pattern().IsMatch(text) && !TryParse(text, out _);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
