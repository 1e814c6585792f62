namespace Conveyor.Client;

/// <summary>Checks <see cref="JobOptions"/> before anything is written; each message names the option and what it accepts.</summary>
internal static class JobOptionsValidator
{
    public const int MaxRetryLimit = 1000;

    public static void Validate(JobOptions options, DateTimeOffset now)
    {
        if (options.Queue is not null && !QueueName.IsConfigurable(options.Queue))
        {
            Fail(nameof(JobOptions.Queue), $"'{options.Queue}' is not a queue name: use {QueueName.ConfigurableRule}");
        }

        if (options.MaxRetry is < 0 or > MaxRetryLimit)
        {
            Fail(nameof(JobOptions.MaxRetry), $"{options.MaxRetry} is out of range: use 0 to {MaxRetryLimit}");
        }

        if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            Fail(nameof(JobOptions.Timeout), "must be positive");
        }

        if (options.Deadline is { } deadline && deadline <= now)
        {
            Fail(nameof(JobOptions.Deadline), $"{InstantText.Format(deadline)} has already passed");
        }

        if (options.ProcessIn is { } processIn && processIn < TimeSpan.Zero)
        {
            Fail(nameof(JobOptions.ProcessIn), "must not be negative");
        }

        if (options.After is { } after)
        {
            ValidateAfter(after, options.AfterCondition);
        }

        if (options.UniqueKey is not null)
        {
            if (TextLength.Of(options.UniqueKey) is 0 or > 256)
            {
                Fail(nameof(JobOptions.UniqueKey), "must be 1 to 256 characters");
            }

            if (options.UniqueKey.Contains('\0', StringComparison.Ordinal))
            {
                // PostgreSQL's text cannot hold it; refused on every store, so a key means the same on each.
                Fail(nameof(JobOptions.UniqueKey), "must not contain the character U+0000");
            }

            if (options.UniqueFor is not { } uniqueFor || uniqueFor <= TimeSpan.Zero)
            {
                Fail(nameof(JobOptions.UniqueFor), "a positive time to live is required with a unique key");
            }
        }

        // One call per setting rather than a loop over an array: this runs on every enqueue, and allocates nothing.
        EnsureNotNegative(nameof(JobOptions.Retention), options.Retention);
        EnsureNotNegative(nameof(JobOptions.SucceededRetention), options.SucceededRetention);
        EnsureNotNegative(nameof(JobOptions.FailedRetention), options.FailedRetention);
        EnsureNotNegative(nameof(JobOptions.CancelledRetention), options.CancelledRetention);

        if (options.JobId is not null && !JobId.IsValid(options.JobId))
        {
            Fail(nameof(JobOptions.JobId), $"'{options.JobId}' is not a job id: use 1 to {JobId.MaxLength} letters, digits, '_', '-', ':' or '.'");
        }

        if (options.Tenant is not null && !TenantId.IsValid(options.Tenant))
        {
            Fail(nameof(JobOptions.Tenant), TenantId.Problem(options.Tenant).TrimEnd('.'));
        }
    }

    private static void EnsureNotNegative(string option, TimeSpan? value)
    {
        if (value < TimeSpan.Zero)
        {
            Fail(option, "must not be negative");
        }
    }

    private static void Fail(string option, string reason) =>
        throw new ArgumentException($"JobOptions.{option}: {reason}.", "options");

    /// <summary>Most jobs one job may wait for.</summary>
    public const int MaxDependencies = 100;

    private static void ValidateAfter(IReadOnlyList<string> after, ContinuationCondition condition)
    {
        if (after.Count > MaxDependencies)
        {
            Fail(nameof(JobOptions.After), $"{after.Count} jobs is too many: a job waits for at most {MaxDependencies}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in after)
        {
            if (!JobId.IsValid(id))
            {
                Fail(nameof(JobOptions.After), $"'{id}' is not a job id");
            }

            if (!seen.Add(id))
            {
                Fail(nameof(JobOptions.After), $"'{id}' is listed twice");
            }
        }

        if (!Enum.IsDefined(condition))
        {
            Fail(nameof(JobOptions.AfterCondition), $"{condition} is not a condition: use Succeeded, Finished or SucceededElseFail");
        }
    }
}
