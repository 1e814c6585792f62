namespace Conveyor;

/// <summary>What a retry policy knows about the failed attempt. A struct of arguments, so fields can be added later.</summary>
/// <param name="JobType">The job's type.</param>
/// <param name="Queue">The job's queue.</param>
/// <param name="Attempt">The attempt that failed, starting at 1.</param>
/// <param name="Exception">What it failed with.</param>
public readonly record struct RetryDelayArguments(string JobType, string Queue, int Attempt, Exception Exception);
