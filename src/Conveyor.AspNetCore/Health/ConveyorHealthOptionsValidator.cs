using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Health;

/// <summary>Checks <see cref="ConveyorHealthOptions"/> at start; every message names the setting and what it accepts.</summary>
internal sealed class ConveyorHealthOptionsValidator : IValidateOptions<ConveyorHealthOptions>
{
    public ValidateOptionsResult Validate(string? name, ConveyorHealthOptions options)
    {
        const string S = ConveyorHealthOptions.SectionName;
        var failures = new List<string>();
        if (options.StoreTimeout < TimeSpan.FromMilliseconds(100) || options.StoreTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{S}:StoreTimeout must be between 00:00:00.1 and 00:01:00; it is {options.StoreTimeout}.");
        }

        if (options.ProbeTimeout < TimeSpan.FromMilliseconds(100) || options.ProbeTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{S}:ProbeTimeout must be between 00:00:00.1 and 00:05:00; it is {options.ProbeTimeout}.");
        }

        if (options.QueueLatencyThreshold is { } global && global <= TimeSpan.Zero)
        {
            failures.Add($"{S}:QueueLatencyThreshold must be more than 0; it is {global}.");
        }

        foreach (var (queue, threshold) in options.QueueLatencyThresholds)
        {
            if (!QueueName.IsConfigurable(queue))
            {
                failures.Add($"{S}:QueueLatencyThresholds: '{queue}' is not a queue name ({QueueName.ConfigurableRule}).");
            }

            if (threshold <= TimeSpan.Zero)
            {
                failures.Add($"{S}:QueueLatencyThresholds:{queue} must be more than 0; it is {threshold}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
