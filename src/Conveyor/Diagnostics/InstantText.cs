using System.Globalization;

namespace Conveyor;

/// <summary>
/// The one written form of an instant, in log lines and in the messages a job keeps (its errors, its snooze reason, a
/// note): RFC 3339 in UTC with microseconds and a 'Z' (<c>2026-12-04T18:02:47.235012Z</c>), as the Jobs API writes its
/// timestamps, so that a time in a message reads as the fields beside it. A log line's structured fields take it as a
/// string: each logger provider renders a DateTimeOffset its own way (the JSON console formatter writes the invariant
/// culture's "12/04/2026 18:12:21 +00:00": month first, no fractions).
/// </summary>
internal static class InstantText
{
    public static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", CultureInfo.InvariantCulture);
}
