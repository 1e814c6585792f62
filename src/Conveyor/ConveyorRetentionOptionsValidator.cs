using System.Globalization;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>The count caps of <c>Conveyor:Retention</c>: each within 0 – <see cref="ConveyorRetentionOptions.MaxCount"/>, queue names valid.</summary>
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

        var failures = new List<string>();
        CheckCount(failures, $"{Section}:{nameof(ConveyorRetentionOptions.MaxSucceededPerQueue)}", retention.MaxSucceededPerQueue);
        CheckCount(failures, $"{Section}:{nameof(ConveyorRetentionOptions.MaxFailedPerQueue)}", retention.MaxFailedPerQueue);
        foreach (var (queue, caps) in retention.Queues)
        {
            if (!QueueName.IsValid(queue))
            {
                failures.Add($"{Section}:Queues: '{queue}' is not a queue name (1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.').");
                continue;
            }

            CheckCount(failures, $"{Section}:Queues:{queue}:{nameof(QueueRetention.MaxSucceeded)}", caps?.MaxSucceeded);
            CheckCount(failures, $"{Section}:Queues:{queue}:{nameof(QueueRetention.MaxFailed)}", caps?.MaxFailed);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
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
