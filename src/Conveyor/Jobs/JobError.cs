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
    DateTimeOffset OccurredAt);
