using System.Globalization;

namespace Conveyor;

/// <summary>
/// The one format of an instant in a log line's structured fields: ISO 8601 round-trip ("O"), as in the message text.
/// A DateTimeOffset field is rendered by each logger provider its own way (the JSON console formatter writes the
/// invariant culture's "12/04/2026 18:12:21 +00:00": month first, no fractions), so the lines pass a string instead.
/// </summary>
internal static class LogInstant
{
    public static string Format(DateTimeOffset instant) => instant.ToString("O", CultureInfo.InvariantCulture);
}
