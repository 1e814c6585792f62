namespace Conveyor;

/// <summary>
/// One error recorded on a job: a failed attempt (with the exception type) or an item error that a
/// handler recorded while it went on with the other items (with the item it concerns).
/// </summary>
/// <param name="Attempt">The attempt during which it happened (1 for the first run).</param>
/// <param name="Message">What went wrong, for a person.</param>
/// <param name="ExceptionType">The .NET exception type, for attempt failures.</param>
/// <param name="Item">The item (row, record, key) it concerns, for item errors.</param>
/// <param name="OccurredAt">When it was recorded.</param>
public sealed record JobError(
    int Attempt,
    string Message,
    string? ExceptionType,
    string? Item,
    DateTimeOffset OccurredAt)
{
    /// <summary>
    /// The most errors a job keeps (20): its first, often the root cause, and the 19 most recent. Every store drops the
    /// errors in between as it appends, so a job retried without end holds a bounded record; the attempt numbers show the gap.
    /// </summary>
    public const int MaxKeptPerJob = 20;

    /// <summary>The most characters of <see cref="StackTrace"/> kept (8,192): the top frames, where the fault is.</summary>
    public const int MaxStackTraceLength = 8192;

    /// <summary>
    /// The exception's stack trace (inner exceptions included) for an attempt that threw, cut to
    /// <see cref="MaxStackTraceLength"/> characters; null for errors without an exception and for errors recorded before
    /// stack traces were kept.
    /// </summary>
    public string? StackTrace { get; init; }

    /// <summary>The stack trace of <paramref name="exception"/> as <see cref="StackTrace"/> keeps it: bounded, or null when it has none.</summary>
    public static string? StackTraceOf(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var text = exception.InnerException is null ? exception.StackTrace : exception.ToString();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        const string Cut = "\n   … (cut)";
        return text.Length <= MaxStackTraceLength ? text : string.Concat(text.AsSpan(0, MaxStackTraceLength - Cut.Length), Cut);
    }
}
