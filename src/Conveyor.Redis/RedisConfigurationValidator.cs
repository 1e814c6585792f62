using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// A configuration string StackExchange.Redis cannot read (an unknown option, a port out of range, a word where a server
/// belongs) fails the options' validation at start with the reason and the setting's name, as PostgreSQL's connection
/// string does, not as an exception from the first resolve of the store that named neither.
/// Skipped when the application registers its own <see cref="IConnectionMultiplexer"/>: the store then never reads it.
/// </summary>
internal sealed class RedisConfigurationValidator(IServiceProviderIsService services) : IValidateOptions<RedisStoreOptions>
{
    private const string Setting = "Conveyor:Redis:Configuration";

    public ValidateOptionsResult Validate(string? name, RedisStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Configuration) || services.IsService(typeof(IConnectionMultiplexer)))
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            _ = RedisConnectionSettings.Create(options.Configuration);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e) when (e.Message.StartsWith(Setting, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException)
        {
            // ArgumentException's own message ends with "(Parameter 'port')", which names no setting.
            var reason = e switch
            {
                // StackExchange.Redis's own words for an endpoint's port are the generic ones; for an option's value they
                // say what it requires ("SyncTimeout requires an integer value").
                ArgumentOutOfRangeException { ParamName: "port" } => "its port is out of the range of valid values.",
                ArgumentException { ParamName: { } parameter } => e.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal),
                _ => e.Message,
            };
            return ValidateOptionsResult.Fail($"{Setting} cannot be read: {reason}");
        }
    }
}
