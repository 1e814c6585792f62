using System.Globalization;
using System.Text;

namespace Conveyor.Storage;

/// <summary>
/// The keyset cursor shared by the stores: the (created-at, id) of the last job (or batch) of a page, newest first.
/// A keyset keeps a page read cheap however deep the listing goes, and stable while jobs are added.
/// </summary>
public readonly record struct JobCursor(long CreatedAtUnixMicroseconds, string JobId)
{
    /// <summary>
    /// The cursor as the opaque string the API hands out. The id ends with a '|' (which no id has): text with characters
    /// added decodes to bytes after it, so it is no cursor, where without it one character more could decode to the
    /// same id with a character added, another position.
    /// </summary>
    public string Encode() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{CreatedAtUnixMicroseconds}|{JobId}|")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // The times a DateTimeOffset can hold, which every store turns the cursor's time into: one past them is not a
    // cursor this API handed out, and must not reach a store's conversion (an exception, a 500).
    private static readonly long MinMicros = (DateTimeOffset.MinValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
    private static readonly long MaxMicros = (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    /// <summary>Parses a cursor made by <see cref="Encode"/>; false for anything else.</summary>
    public static bool TryDecode(string? text, out JobCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(text) || text.Length > 512)
        {
            return false;
        }

        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            var bar = decoded.IndexOf('|', StringComparison.Ordinal);
            if (bar <= 0 || !long.TryParse(decoded.AsSpan(0, bar), NumberStyles.Integer, CultureInfo.InvariantCulture, out var micros)
                || micros < MinMicros || micros > MaxMicros)
            {
                return false;
            }

            if (decoded.Length <= bar + 1 || !decoded.EndsWith('|'))
            {
                return false;
            }

            var id = decoded[(bar + 1)..^1];
            if (!Conveyor.JobId.IsValid(id))
            {
                return false;
            }

            // Only the cursor's own spelling: text that merely decodes to one (a character added, other padding) is
            // not a cursor this API handed out.
            cursor = new JobCursor(micros, id);
            if (!string.Equals(cursor.Encode(), text, StringComparison.Ordinal))
            {
                cursor = default;
                return false;
            }

            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Microseconds since the Unix epoch: the precision every store keeps times at.</summary>
    public static long ToUnixMicroseconds(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
