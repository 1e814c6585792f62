namespace Conveyor.Cli;

/// <summary>A failure the tool reports as one line on standard error, ending with <see cref="ExitCode"/>.</summary>
internal sealed class CliException(int exitCode, string message, int? status = null, bool transient = false, string? hint = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The HTTP status the server answered; null when it gave none (unreachable, no answer in time, a usage error).</summary>
    public int? Status { get; } = status;

    /// <summary>
    /// A failure a later try can get past without the user doing anything (the server unreachable or slow, a 5xx, a
    /// 408 or 429), as opposed to one that answers the same every time (a wrong key, a wrong address, a bad request):
    /// <c>conveyor dash</c> keeps refreshing through the first kind and stops at the second.
    /// </summary>
    public bool Transient { get; } = transient;

    /// <summary>A second line after the failure's, on what to do about it; null when there is nothing to add.</summary>
    public string? Hint { get; } = hint;

    public CliException WithHint(string hint) => new(ExitCode, Message, Status, Transient, hint);
}
