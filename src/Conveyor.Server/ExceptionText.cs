using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Conveyor.Server;

/// <summary>
/// An exception's text as the console shows it: <c>exception.ToString()</c> with the message of the exception and of
/// each inner one escaped whole (<see cref="LogText.Escape"/>), and the stack traces escaped but for their line breaks,
/// which separate the frames.
/// </summary>
internal static class ExceptionText
{
    // The runtime's own words (Exception.ToString, AggregateException.ToString), which it does not translate.
    private const string InnerPrefix = " ---> ";
    private const string EndOfInner = "   --- End of inner exception stack trace ---";

    /// <summary>Whether a type's text is the one <see cref="Exception.ToString"/> or <see cref="AggregateException.ToString"/> lays out.</summary>
    private static readonly ConcurrentDictionary<Type, bool> LaidOutByTheRuntime = new();

    /// <summary>
    /// Appends the exception's text to <paramref name="text"/>. The text of an exception whose type keeps the runtime's
    /// <c>ToString</c> is built from its parts as the runtime lays it out, each read once, so each message is escaped
    /// where it stands and text with nothing to escape comes out as <c>ToString()</c> writes it. An exception whose own
    /// <c>ToString</c> writes something else is written as that (nothing when it returns null or nothing, as the simple
    /// formatter does): its inner exceptions' texts are found in it and written as built here, each message of the
    /// exception and of its inner ones and the file name of the runtime's file exceptions are escaped whole wherever
    /// they stand, and the rest is escaped but for its line breaks.
    /// </summary>
    public static void Append(StringBuilder text, Exception exception)
    {
        if (!IsLaidOutByTheRuntime(exception.GetType()))
        {
            text.Append(OwnText(exception));
            return;
        }

        var newLine = Environment.NewLine;
        text.Append(exception.GetType().ToString());
        if (exception.Message is { Length: > 0 } message)
        {
            text.Append(": ").Append(LogText.Escape(message));
        }

        var first = exception.InnerException;
        if (first is not null)
        {
            Append(text.Append(newLine).Append(InnerPrefix), first);
            text.Append(newLine).Append(EndOfInner);
        }

        if (exception.StackTrace is { } stackTrace)
        {
            text.Append(newLine).Append(LogText.EscapeKeepingLineBreaks(stackTrace));
        }

        if (exception is AggregateException aggregate)
        {
            var inner = aggregate.InnerExceptions;
            for (var i = 0; i < inner.Count; i++)
            {
                if (inner[i] != first)
                {
                    text.Append(newLine).Append(InnerPrefix).Append(CultureInfo.InvariantCulture, $"(Inner Exception #{i}) ");
                    Append(text, inner[i]);
                    text.Append("<---").Append(newLine);
                }
            }
        }
    }

    private static string Of(Exception exception)
    {
        var text = new StringBuilder();
        Append(text, exception);
        return text.ToString();
    }

    private static bool IsLaidOutByTheRuntime(Type type) =>
        LaidOutByTheRuntime.GetOrAdd(type, static t => t.GetMethod(nameof(ToString), Type.EmptyTypes)?.DeclaringType is { } declaring
            && (declaring == typeof(Exception) || declaring == typeof(AggregateException)));

    /// <summary>The text the exception's own <c>ToString</c> writes, with what is known of it escaped.</summary>
    private static string OwnText(Exception exception)
    {
        var text = exception.ToString();
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        // Each inner exception's text as built here, and the exception's own stack trace, keep a message that also
        // occurs in them from being escaped there: the first known text to start, the longest of those, is taken.
        var known = new List<(string Raw, string Escaped)>();
        foreach (var inner in InnerExceptions(exception))
        {
            if (inner.ToString() is { Length: > 0 } innerText)
            {
                known.Add((innerText, Of(inner)));
            }
        }

        if (exception.StackTrace is { Length: > 0 } stackTrace)
        {
            known.Add((stackTrace, LogText.EscapeKeepingLineBreaks(stackTrace)));
        }

        foreach (var outside in OutsideTexts(exception))
        {
            if (!string.IsNullOrEmpty(outside) && LogText.Escape(outside) is var escaped && !ReferenceEquals(escaped, outside))
            {
                known.Add((outside, escaped));
            }
        }

        return Replaced(text, known);
    }

    private static IEnumerable<Exception> InnerExceptions(Exception exception) =>
        exception is AggregateException aggregate ? aggregate.InnerExceptions
        : exception.InnerException is { } inner ? [inner]
        : [];

    /// <summary>The messages of the exception and of every inner one, and the file name a file exception names.</summary>
    private static IEnumerable<string?> OutsideTexts(Exception exception)
    {
        yield return exception.Message;
        yield return exception switch
        {
            FileNotFoundException e => e.FileName,
            FileLoadException e => e.FileName,
            BadImageFormatException e => e.FileName,
            _ => null,
        };

        foreach (var text in InnerExceptions(exception).SelectMany(OutsideTexts))
        {
            yield return text;
        }
    }

    /// <summary>
    /// <paramref name="text"/> with each occurrence of a known text replaced by its escaped form, the earliest first (the
    /// longest of those starting together), and what lies between escaped but for its line breaks.
    /// </summary>
    private static string Replaced(string text, List<(string Raw, string Escaped)> known)
    {
        var next = new int[known.Count];
        for (var i = 0; i < known.Count; i++)
        {
            next[i] = text.IndexOf(known[i].Raw, StringComparison.Ordinal);
        }

        var result = new StringBuilder(text.Length + 16);
        var at = 0;
        while (true)
        {
            var best = -1;
            for (var i = 0; i < known.Count; i++)
            {
                if (next[i] >= 0 && next[i] < at)
                {
                    next[i] = text.IndexOf(known[i].Raw, at, StringComparison.Ordinal);
                }

                if (next[i] >= 0 && (best < 0 || next[i] < next[best] || (next[i] == next[best] && known[i].Raw.Length > known[best].Raw.Length)))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return result.Append(LogText.EscapeKeepingLineBreaks(text[at..])).ToString();
            }

            result.Append(LogText.EscapeKeepingLineBreaks(text[at..next[best]])).Append(known[best].Escaped);
            at = next[best] + known[best].Raw.Length;
        }
    }
}
