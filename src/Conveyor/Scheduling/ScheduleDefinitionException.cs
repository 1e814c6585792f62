namespace Conveyor;

/// <summary>A schedule definition that cannot be accepted: the message names the schedule and the field.</summary>
public sealed class ScheduleDefinitionException : ArgumentException
{
    /// <summary>The schedule <paramref name="scheduleName"/> has a bad <paramref name="field"/>; <paramref name="problem"/> says why.</summary>
    public ScheduleDefinitionException(string scheduleName, string field, string problem)
        : base($"Schedule '{scheduleName}': {field}: {problem}")
    {
        ScheduleName = scheduleName;
        Field = field;
        Problem = problem;
    }

    /// <summary>The schedule's name as given (may be empty or invalid itself).</summary>
    public string ScheduleName { get; }

    /// <summary>The field at fault, as in <see cref="ScheduleDefinition"/> (<c>Cron</c>, <c>TimeZone</c>, <c>JobType</c>…).</summary>
    public string Field { get; }

    /// <summary>What is wrong with it, for an operator.</summary>
    public string Problem { get; }
}
