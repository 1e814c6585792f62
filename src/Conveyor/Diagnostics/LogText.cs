using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Conveyor;

// Text that comes from outside the server (a handler's exception message, an idempotency key taken from a payload, a
// store client's error) as a log line carries it: every control character (char.IsControl: U+0000 to U+001F, U+007F to
// U+009F) written as an escape, \n, \r and \t by name and the others as \u001b. A plain-text console writes a message
// as it is, so a raw line break would start what reads as a log line of its own, and an ESC sequence would colour,
// move or clear the operator's terminal. Backslashes are left as they are: a message that spells \n itself is shown as
// it was written, and cannot do more than that.
// Plain comments, not XML docs: the bundled server compiles this file too (for its console formatter), and its OpenAPI
// generator reads the XML docs of the server and of the packages it references into one table keyed by member, where
// a member documented twice stops every document with a duplicate key (as SettingDescriptions says).
internal static class LogText
{
    private static readonly SearchValues<char> Controls = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7f, 0x21)).Select(static c => (char)c)));

    // The text with every control character escaped; the same instance when it holds none.
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Escape(string? text) => Escaped(text, keepLineBreaks: false);

    // As Escape, but each Environment.NewLine is kept: for an exception's text, whose stack frames are lines of their
    // own. A line break left in it breaks the line there; the console formatter indents or joins what follows, so it
    // cannot pass for an entry of its own.
    public static string EscapeKeepingLineBreaks(string text) => Escaped(text, keepLineBreaks: true);

    private static string Escaped(string? text, bool keepLineBreaks)
    {
        if (text is null)
        {
            return null!;
        }

        var first = text.AsSpan().IndexOfAny(Controls);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16).Append(text, 0, first);
        var newLine = Environment.NewLine;
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (keepLineBreaks && string.CompareOrdinal(text, i, newLine, 0, newLine.Length) == 0)
            {
                builder.Append(newLine);
                i += newLine.Length - 1;
                continue;
            }

            _ = c switch
            {
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ when char.IsControl(c) => builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }
}
