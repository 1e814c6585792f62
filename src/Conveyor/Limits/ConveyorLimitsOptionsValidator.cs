using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>
/// <c>Conveyor:Limits</c> at start: names, queues and job types well formed, maxima in range, at most
/// <see cref="ConveyorLimitsOptions.MaxCount"/> limits; each failure names the setting and what it accepts.
/// </summary>
internal sealed class ConveyorLimitsOptionsValidator(IServiceProvider services) : IValidateOptions<ConveyorOptions>
{
    private const string Section = "Conveyor:Limits:Concurrency";
    private const string RateSection = "Conveyor:Limits:Rate";
    private const string FairSection = "Conveyor:Limits:FairQueues";

    public ValidateOptionsResult Validate(string? name, ConveyorOptions options)
    {
        var failures = Unreadable(services.GetService<IConfiguration>()?.GetSection(Section));
        failures.AddRange(UnreadableRates(services.GetService<IConfiguration>()?.GetSection(RateSection)));
        foreach (var (limitName, limit) in options.Limits?.Rate ?? [])
        {
            failures.AddRange(CheckRate(limitName, limit));
        }

        if ((options.Limits?.Rate?.Count ?? 0) > ConveyorLimitsOptions.MaxCount)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{RateSection}: at most {ConveyorLimitsOptions.MaxCount} limits; got {options.Limits!.Rate.Count}."));
        }

        failures.AddRange(CheckFairQueues(options.Limits?.FairQueues));

        if (options.Limits is { } all && (all.RefreshInterval < TimeSpan.FromSeconds(1) || all.RefreshInterval > TimeSpan.FromHours(1)))
        {
            failures.Add($"Conveyor:Limits:RefreshInterval must be between 00:00:01 and 01:00:00; got {all.RefreshInterval}.");
        }

        var limits = options.Limits?.Concurrency;
        if (limits is null || limits.Count == 0)
        {
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        if (limits.Count > ConveyorLimitsOptions.MaxCount)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}: at most {ConveyorLimitsOptions.MaxCount} limits; got {limits.Count}."));
        }

        foreach (var (limitName, limit) in limits)
        {
            failures.AddRange(Check(limitName, limit));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// Every limit value under <paramref name="conveyorSection"/> (the <c>Conveyor</c> section) that configuration cannot
    /// convert: the generated binder stops at the first one, and the start names them all instead.
    /// </summary>
    internal static List<string> UnreadableIn(IConfiguration conveyorSection)
    {
        var failures = Unreadable(conveyorSection.GetSection("Limits:Concurrency"));
        failures.AddRange(UnreadableRates(conveyorSection.GetSection("Limits:Rate")));
        return failures;
    }

    /// <summary>
    /// The configured values the binder could not convert: it drops the whole limit then, silently, which would leave a
    /// typo running without its limit.
    /// </summary>
    private static List<string> Unreadable(IConfigurationSection? section)
    {
        var failures = new List<string>();
        foreach (var limit in section?.GetChildren() ?? [])
        {
            var setting = $"{Section}:{limit.Key}";
            if (limit[nameof(ConcurrencyLimit.Partition)] is { } partition && !Enum.TryParse<LimitPartition>(partition, ignoreCase: true, out _))
            {
                failures.Add($"{setting}:Partition must be None (one count for the limit) or Tenant (one count per tenant); got '{partition}'.");
            }

            if (limit[nameof(ConcurrencyLimit.Max)] is { } max && !int.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                failures.Add($"{setting}:Max must be the jobs running at once, from 1 to {ConcurrencyLimit.MaxValue.ToString(CultureInfo.InvariantCulture)}; got '{max}'.");
            }
        }

        return failures;
    }

    private static List<string> UnreadableRates(IConfigurationSection? section)
    {
        var failures = new List<string>();
        foreach (var limit in section?.GetChildren() ?? [])
        {
            var setting = $"{RateSection}:{limit.Key}";
            if (limit[nameof(RateLimit.Partition)] is { } partition && !Enum.TryParse<LimitPartition>(partition, ignoreCase: true, out _))
            {
                failures.Add($"{setting}:Partition must be None (one count for the limit) or Tenant (one count per tenant); got '{partition}'.");
            }

            foreach (var number in new[] { nameof(RateLimit.Limit), nameof(RateLimit.Burst) })
            {
                if (limit[number] is { } value && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    failures.Add($"{setting}:{number} must be a whole number; got '{value}'.");
                }
            }

            if (limit[nameof(RateLimit.Period)] is { } period && !TimeSpan.TryParse(period, CultureInfo.InvariantCulture, out _))
            {
                failures.Add($"{setting}:Period must be a time span such as 00:00:01; got '{period}'.");
            }
        }

        return failures;
    }

    /// <summary>What is wrong with the list of fair queues, in sentences that name the setting; empty when it is valid.</summary>
    internal static IEnumerable<string> CheckFairQueues(IReadOnlyList<string?>? queues)
    {
        var failures = new List<string>();
        if (queues is null)
        {
            return failures;
        }

        if (queues.Count > ConveyorLimitsOptions.MaxCount)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{FairSection}: at most {ConveyorLimitsOptions.MaxCount} queues; got {queues.Count}."));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < queues.Count; i++)
        {
            var queue = queues[i];
            if (!QueueName.IsConfigurable(queue))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{FairSection}:{i} must name a queue whose jobs are taken in turns between tenants ({QueueName.ConfigurableRule}); got '{queue}'."));
            }
            else if (!seen.Add(queue!))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{FairSection}:{i}: the queue '{queue}' is listed twice."));
            }
        }

        return failures;
    }

    /// <summary>What is wrong with one rate limit, in sentences that name the setting; empty when it is valid.</summary>
    internal static IEnumerable<string> CheckRate(string limitName, RateLimit? limit)
    {
        var failures = new List<string>();
        if (!CheckTarget(failures, RateSection, limitName, limit?.Queue, limit?.JobType, limit?.Partition, "Queue, Limit and Period", out var setting))
        {
            return failures;
        }

        if (limit!.Limit is < 1 or > RateLimit.MaxLimit)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{setting}:Limit must be the starts per period, from 1 to {RateLimit.MaxLimit}; got {limit.Limit}."));
        }

        if (limit.Period < TimeSpan.FromMilliseconds(1) || limit.Period > TimeSpan.FromDays(1))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{setting}:Period must be between 00:00:00.001 and 1.00:00:00; got {limit.Period}."));
        }

        if (limit.Burst < 1 || (limit.Limit >= 1 && limit.Burst > limit.Limit))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{setting}:Burst must be the starts allowed at once, from 1 to Limit ({limit.Limit}); got {limit.Burst}."));
        }

        return failures;
    }

    /// <summary>What is wrong with one limit, in sentences that name the setting; empty when it is valid.</summary>
    internal static IEnumerable<string> Check(string limitName, ConcurrencyLimit? limit)
    {
        var failures = new List<string>();
        if (!CheckTarget(failures, Section, limitName, limit?.Queue, limit?.JobType, limit?.Partition, "Queue and Max", out var setting))
        {
            return failures;
        }

        if (limit!.Max is < 1 or > ConcurrencyLimit.MaxValue)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{setting}:Max must be the jobs running at once, from 1 to {ConcurrencyLimit.MaxValue}; got {limit.Max}."));
        }

        return failures;
    }

    /// <summary>
    /// The checks every kind of limit shares: its name, then what it applies to (queue, job type, partition). False
    /// when the name is not one or the limit is empty (<paramref name="partition"/> null): nothing more can be checked.
    /// </summary>
    private static bool CheckTarget(List<string> failures, string section, string limitName, string? queue, string? jobType, LimitPartition? partition, string required, out string setting)
    {
        setting = $"{section}:{limitName}";
        if (!QueueName.IsConfigurable(limitName))
        {
            failures.Add($"{section}: '{limitName}' is not a limit name ({QueueName.ConfigurableRule}).");
            return false;
        }

        if (partition is not { } scope)
        {
            failures.Add($"{setting}: the limit is empty; set at least {required}.");
            return false;
        }

        if (!QueueName.IsConfigurable(queue))
        {
            failures.Add($"{setting}:Queue must name the queue the limit applies to ({QueueName.ConfigurableRule}); got '{queue}'.");
        }

        if (jobType is not null && !JobType.IsValid(jobType))
        {
            failures.Add($"{setting}:JobType must be a job type ('domain:action', lowercase) or unset for every type of the queue; got '{jobType}'.");
        }

        if (!Enum.IsDefined(scope))
        {
            failures.Add($"{setting}:Partition must be None (one count for the limit) or Tenant (one count per tenant); got '{scope}'.");
        }

        return true;
    }
}
