using System.Globalization;
using Conveyor.Configuration;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>
/// <c>Conveyor:Retention</c>: the ages (also per job type) within 0 – 10 years, the count caps within 0 –
/// <see cref="ConveyorRetentionOptions.MaxCount"/>, queue names valid. Each failure names the setting as configured
/// and the value given.
/// </summary>
internal sealed class ConveyorRetentionOptionsValidator : IValidateOptions<ConveyorOptions>
{
    private const string Section = "Conveyor:Retention";

    public ValidateOptionsResult Validate(string? name, ConveyorOptions options)
    {
        var retention = options.Retention;
        if (retention is null)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>(new ConveyorRetentionOptionsAttributesValidator().Validate(name, retention).Failures ?? []);
        foreach (var (type, ages) in retention.JobTypes)
        {
            CheckAge(failures, $"{Section}:JobTypes:{type}:{nameof(JobTypeRetention.Succeeded)}", ages?.Succeeded);
            CheckAge(failures, $"{Section}:JobTypes:{type}:{nameof(JobTypeRetention.Failed)}", ages?.Failed);
            CheckAge(failures, $"{Section}:JobTypes:{type}:{nameof(JobTypeRetention.Cancelled)}", ages?.Cancelled);
        }

        CheckCount(failures, $"{Section}:{nameof(ConveyorRetentionOptions.MaxSucceededPerQueue)}", retention.MaxSucceededPerQueue);
        CheckCount(failures, $"{Section}:{nameof(ConveyorRetentionOptions.MaxFailedPerQueue)}", retention.MaxFailedPerQueue);
        foreach (var (queue, caps) in retention.Queues)
        {
            if (!QueueName.IsConfigurable(queue))
            {
                failures.Add($"{Section}:Queues: '{queue}' is not a queue name ({QueueName.ConfigurableRule}).");
                continue;
            }

            CheckCount(failures, $"{Section}:Queues:{queue}:{nameof(QueueRetention.MaxSucceeded)}", caps?.MaxSucceeded);
            CheckCount(failures, $"{Section}:Queues:{queue}:{nameof(QueueRetention.MaxFailed)}", caps?.MaxFailed);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckAge(List<string> failures, string setting, TimeSpan? age)
    {
        if (age is { } value && (value < TimeSpan.Zero || value > ConveyorRetentionOptions.MaxAge))
        {
            failures.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{setting} must be between 00:00:00 and {ConveyorRetentionOptions.MaxAge}; it is {value}."));
        }
    }

    private static void CheckCount(List<string> failures, string setting, int? count)
    {
        if (count is < 0 or > ConveyorRetentionOptions.MaxCount)
        {
            failures.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{setting} must be a count of finished jobs from 0 to {ConveyorRetentionOptions.MaxCount} (or unset for no cap); got {count}."));
        }
    }
}
