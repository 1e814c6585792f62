using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Conveyor;

// Text that comes from outside the server (a handler's exception message, an idempotency key taken from a payload, a
// store client's error) as a log line carries it: every control character (char.IsControl: U+0000 to U+001F, U+007F to
// U+009F) written as an escape, \n, \r and \t by name and the others as \u001b. A plain-text console writes a message
// as it is, so a raw line break would start what reads as a log line of its own, and an ESC sequence would colour,
// move or clear the operator's terminal. The line and paragraph separators (U+2028, U+2029), which some log viewers
// break a line on, and the bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), with
// which a message shows its text in another order than it is stored in ("Trojan Source"), are written as \u2028 and so
// on too. Backslashes are left as they are: a message that spells \n itself is shown as it was written, and cannot do
// more than that.
// Plain comments, not XML docs: the bundled server compiles this file too (for its console formatter), as does the
// PostgreSQL store (for its notifier's lines), and the server's OpenAPI generator reads the XML docs of the server and
// of the packages it references into one table keyed by member, where a member documented twice stops every document
// with a duplicate key (as SettingDescriptions says).
internal static class LogText
{
    // One set, so that text with nothing to escape costs a single vectorised scan and no allocation.
    private static readonly SearchValues<char> ToEscape = SearchValues.Create(string.Concat(
        Enumerable.Range(0, 0x20)
            .Concat(Enumerable.Range(0x7f, 0x21))
            .Concat([0x061c, 0x200e, 0x200f, 0x2028, 0x2029])
            .Concat(Enumerable.Range(0x202a, 5))
            .Concat(Enumerable.Range(0x2066, 4))
            .Select(static c => (char)c)));

    // The text with every character of the set escaped; the same instance when it holds none.
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Escape(string? text) => Escaped(text, keepLineBreaks: false);

    // As Escape, but each Environment.NewLine is kept: for an exception's text, whose stack frames are lines of their
    // own. A line break left in it breaks the line there; the console formatter indents or joins what follows, so it
    // cannot pass for an entry of its own. The same instance when the text holds nothing else to escape.
    public static string EscapeKeepingLineBreaks(string text) => Escaped(text, keepLineBreaks: true);

    private static string Escaped(string? text, bool keepLineBreaks)
    {
        if (text is null)
        {
            return null!;
        }

        // Each scan starts after the last hit; a kept line break is no reason to copy the text, so a stack trace, whose
        // only controls are its line breaks, comes back as it is.
        var newLine = Environment.NewLine;
        StringBuilder? builder = null;
        var copied = 0;
        var at = 0;
        while (at < text.Length && text.AsSpan(at).IndexOfAny(ToEscape) is var found and >= 0)
        {
            var hit = at + found;
            if (keepLineBreaks && text.AsSpan(hit).StartsWith(newLine, StringComparison.Ordinal))
            {
                at = hit + newLine.Length;
                continue;
            }

            builder ??= new StringBuilder(text.Length + 16);
            builder.Append(text, copied, hit - copied);
            var c = text[hit];
            _ = c switch
            {
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ => builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
            };
            copied = at = hit + 1;
        }

        return builder is null ? text : builder.Append(text, copied, text.Length - copied).ToString();
    }
}
