using Microsoft.Extensions.Options;

namespace Conveyor.Client.FireAndForget;

/// <summary>What the attributes of <see cref="FireAndForgetOptions"/> cannot say: the queue name and the full mode.</summary>
internal sealed class FireAndForgetOptionsValidator : IValidateOptions<FireAndForgetOptions>
{
    public ValidateOptionsResult Validate(string? name, FireAndForgetOptions options)
    {
        var failures = new List<string>();
        if (!QueueName.IsConfigurable(options.Queue))
        {
            failures.Add($"Conveyor:FireAndForget:Queue: '{options.Queue}' is not a queue name ({QueueName.ConfigurableRule}).");
        }

        if (!Enum.IsDefined(options.FullMode))
        {
            failures.Add($"Conveyor:FireAndForget:FullMode must be Drop or Wait; got {(int)options.FullMode}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
