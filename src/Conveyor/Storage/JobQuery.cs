namespace Conveyor.Storage;

/// <summary>A page of jobs, newest first, optionally filtered: one tenant's, or every tenant's for an operator.</summary>
public sealed record JobQuery
{
    /// <summary>The tenant whose jobs are listed, or null for every tenant's (what an operator may see).</summary>
    public required string? Tenant { get; init; }

    /// <summary>Only jobs in this state; null for every state.</summary>
    public JobState? State { get; init; }

    /// <summary>Only jobs of this type; null for every type.</summary>
    public string? Type { get; init; }

    /// <summary>Only jobs of this queue; null for every queue.</summary>
    public string? Queue { get; init; }

    /// <summary>
    /// Only jobs whose last error's message contains this text, ignoring the case of ASCII letters (1 to
    /// <see cref="MaxErrorFilterLength"/> characters). No index answers a substring: the listing reads jobs newest
    /// first until it has a page, so combine it with <see cref="State"/> (failed jobs are what have errors). A text
    /// holding U+0000 matches no job (PostgreSQL stores none in a message).
    /// </summary>
    public string? ErrorContains { get; init; }

    /// <summary>Only the members of this batch (or workflow): the jobs created with it or added to it, not its callbacks.</summary>
    public string? BatchId { get; init; }

    /// <summary>Only jobs created at or after this instant.</summary>
    public DateTimeOffset? CreatedAfter { get; init; }

    /// <summary>Only jobs created before this instant.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>Page size, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="JobPage.NextCursor"/> of the previous page, or null for the first page.</summary>
    public string? Cursor { get; init; }

    /// <summary>The largest page a query may ask for.</summary>
    public const int MaxLimit = 1000;

    /// <summary>The longest <see cref="ErrorContains"/> text.</summary>
    public const int MaxErrorFilterLength = 200;

    /// <summary>The rule every store applies for <see cref="ErrorContains"/>: the last error's message, ASCII case ignored.</summary>
    public static bool LastErrorContains(IReadOnlyList<JobError> errors, string text) =>
        errors.Count > 0 && FoldAsciiCase(errors[^1].Message).Contains(FoldAsciiCase(text), StringComparison.Ordinal);

    /// <summary>
    /// The text with its ASCII letters in lower case and every other character as it is: the comparison of
    /// <see cref="ErrorContains"/> on every store (Lua's case folding is ASCII only; .NET's and PostgreSQL's fold other
    /// letters too, each its own way, so that 'İ' found nothing on one store and matched 'i' on another).
    /// </summary>
    public static string FoldAsciiCase(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.AsSpan().IndexOfAnyInRange('A', 'Z') < 0
            ? text
            : string.Create(text.Length, text, static (chars, source) =>
            {
                for (var i = 0; i < chars.Length; i++)
                {
                    var c = source[i];
                    chars[i] = c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : c;
                }
            });
    }
}
