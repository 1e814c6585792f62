using Microsoft.Extensions.Options;

namespace Conveyor.Server;

/// <summary>What the attributes cannot say: queue names and weights, and how the timings fit together.</summary>
internal sealed class JobServerOptionsValidator : IValidateOptions<JobServerOptions>
{
    public const int MaxWeight = 1000;

    public ValidateOptionsResult Validate(string? name, JobServerOptions options)
    {
        var failures = new List<string>();
        foreach (var (queue, weight) in options.Queues)
        {
            if (!QueueName.IsConfigurable(queue))
            {
                failures.Add($"Conveyor:Server:Queues: '{queue}' is not a queue name ({QueueName.ConfigurableRule}).");
            }

            if (weight is < 1 or > MaxWeight)
            {
                failures.Add($"Conveyor:Server:Queues:{queue} must be a weight from 1 to {MaxWeight}; got {weight}.");
            }
        }

        if (options.LeaseDuration < options.RecoverInterval)
        {
            failures.Add($"Conveyor:Server:LeaseDuration ({options.LeaseDuration}) must be at least Conveyor:Server:RecoverInterval ({options.RecoverInterval}).");
        }

        if (options.ScheduleMisfireThreshold <= options.SchedulePollInterval)
        {
            // A schedule another process creates, resumes or retimes is first read at the next poll: its ticks until then
            // would be older than the threshold, and counted as missed while every server was running.
            failures.Add($"Conveyor:Server:ScheduleMisfireThreshold ({options.ScheduleMisfireThreshold}) must be longer than Conveyor:Server:SchedulePollInterval ({options.SchedulePollInterval}): " +
                "a schedule changed elsewhere is first read at the next poll, and its ticks until then would count as missed.");
        }

        if (options.UnknownJobTypeMaxDelay < options.UnknownJobTypeDelay)
        {
            failures.Add($"Conveyor:Server:UnknownJobTypeMaxDelay ({options.UnknownJobTypeMaxDelay}) must be at least Conveyor:Server:UnknownJobTypeDelay ({options.UnknownJobTypeDelay}).");
        }

        if (!Enum.IsDefined(options.UnknownJobTypes))
        {
            failures.Add($"Conveyor:Server:UnknownJobTypes must be Snooze or Fail; got {(int)options.UnknownJobTypes}.");
        }

        if (options.SuccessLogLevel is not (Microsoft.Extensions.Logging.LogLevel.Debug or Microsoft.Extensions.Logging.LogLevel.Information))
        {
            failures.Add($"Conveyor:Server:SuccessLogLevel must be Debug or Information; got {options.SuccessLogLevel}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
