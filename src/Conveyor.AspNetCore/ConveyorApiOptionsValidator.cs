using System.Globalization;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore;

/// <summary>Checks <see cref="ConveyorApiOptions"/> at start; every message names the setting and what it accepts.</summary>
internal sealed class ConveyorApiOptionsValidator : IValidateOptions<ConveyorApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ConveyorApiOptions options)
    {
        var failures = new List<string>();
        const string S = ConveyorApiOptions.SectionName;
        if (options.MaxRequestBytes is < 1024 or > 256 * 1024 * 1024)
        {
            failures.Add($"{S}:MaxRequestBytes must be between 1024 and 268435456 (256 MiB); it is {options.MaxRequestBytes}.");
        }

        if (options.MaxPageSize is < 1 or > Storage.JobQuery.MaxLimit)
        {
            failures.Add($"{S}:MaxPageSize must be between 1 and {Storage.JobQuery.MaxLimit}; it is {options.MaxPageSize}.");
        }

        if (options.DefaultPageSize < 1 || options.DefaultPageSize > options.MaxPageSize)
        {
            failures.Add($"{S}:DefaultPageSize must be between 1 and {S}:MaxPageSize ({options.MaxPageSize}); it is {options.DefaultPageSize}.");
        }

        if (options.EnqueueBatchSize is < 1 or > 10_000)
        {
            failures.Add($"{S}:EnqueueBatchSize must be between 1 and 10000; it is {options.EnqueueBatchSize}.");
        }

        if (options.StoreTimeout < TimeSpan.FromSeconds(1) || options.StoreTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{S}:StoreTimeout must be between 00:00:01 and 00:10:00; it is {options.StoreTimeout:c}.");
        }

        var rate = options.RateLimit;
        if (rate.PermitsPerSecond is < 1 or > 10_000_000)
        {
            failures.Add($"{S}:RateLimit:PermitsPerSecond must be between 1 and 10000000; it is {rate.PermitsPerSecond}.");
        }

        if (rate.Burst is < 1 or > 100_000_000)
        {
            failures.Add($"{S}:RateLimit:Burst must be between 1 and 100000000; it is {rate.Burst}.");
        }

        for (var i = 0; i < options.JobTypes.Count; i++)
        {
            if (!JobType.IsValid(options.JobTypes[i]))
            {
                failures.Add($"{S}:JobTypes:{i} ('{options.JobTypes[i]}') is not a job type of the form '{{domain}}:{{action}}'.");
            }
        }

        var hashes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var path = string.Create(CultureInfo.InvariantCulture, $"{S}:Keys:{i}");
            if (string.IsNullOrEmpty(key.Tenant))
            {
                failures.Add($"{path}:Tenant is required: {TenantId.Rule}.");
            }
            else if (key.Tenant == "*")
            {
                // '*' in ?tenant= means every tenant; a key is always one tenant's, and only Admin = true reaches the others.
                failures.Add($"{path}:Tenant cannot be '*': a key acts in one tenant, and every tenant is what an admin key reaches ({path}:Admin = true, with a tenant of its own such as 'ops').");
            }
            else if (!TenantId.IsValid(key.Tenant))
            {
                failures.Add($"{path}:Tenant: {TenantId.Problem(key.Tenant)}");
            }

            var hasKey = !string.IsNullOrEmpty(key.Key);
            var hasHash = !string.IsNullOrEmpty(key.KeyHash);
            if (hasKey == hasHash)
            {
                failures.Add($"{path} needs exactly one of Key (the key) or KeyHash (its SHA-256 as 64 hex digits).");
                continue;
            }

            if (hasKey && key.Key!.Length < 16)
            {
                failures.Add($"{path}:Key is too short to be secret: use at least 16 characters (e.g. 'openssl rand -hex 32').");
            }

            if (hasHash && !ApiKeyHash.TryParseHex(key.KeyHash!, out _))
            {
                failures.Add($"{path}:KeyHash must be the SHA-256 of the key as 64 hexadecimal digits.");
            }

            var hash = hasKey ? Convert.ToHexStringLower(ApiKeyHash.Compute(key.Key!)) : key.KeyHash!.ToLowerInvariant();
            if (!hashes.Add(hash))
            {
                failures.Add($"{path} repeats a key given earlier in {S}:Keys.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
