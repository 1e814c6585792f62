using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore;

/// <summary>
/// Without API keys anyone who reaches the API acts for the default tenant, so it must not be reachable from another
/// machine: before the server binds, every configured address must be a loopback one, or start-up fails.
/// </summary>
internal sealed partial class LoopbackGuard(IServer server, ApiKeyTenantResolver resolver, IHostApplicationLifetime lifetime, ILogger<LoopbackGuard> logger) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        if (!resolver.KeysRequired)
        {
            // Startup filters run after the host copied the configured URLs into the feature and before the server binds.
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
            if (exposed.Count > 0)
            {
                // An options failure: hosts report it as a bad setting (the Conveyor server as one line, exit code 1).
                throw new Microsoft.Extensions.Options.OptionsValidationException(ConveyorApiOptions.SectionName, typeof(ConveyorApiOptions), [
                    $"Conveyor:Api:Keys is empty, so the Jobs API may listen on loopback addresses only, but it is configured to listen on {string.Join(", ", exposed)}. " +
                    "Configure API keys (Conveyor:Api:Keys:0:KeyHash and Conveyor:Api:Keys:0:Tenant) or listen on 127.0.0.1 (--urls http://127.0.0.1:8080)."]);
            }

            LogNoKeys(logger);

            // Endpoints configured in code or in Kestrel's own section are known only once bound: check those too.
            lifetime.ApplicationStarted.Register(() =>
            {
                var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.Where(a => !IsLoopback(a)).ToList() ?? [];
                if (bound.Count > 0)
                {
                    LogExposed(logger, string.Join(", ", bound));
                    lifetime.StopApplication();
                }
            });
        }

        return next;
    }

    internal static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        if (uri.Scheme is "unix" || address.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://unix:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    [LoggerMessage(LogLevel.Critical, "Conveyor:Api:Keys is empty but the server listens on {addresses}, which are not loopback addresses: stopping. Configure API keys or listen on 127.0.0.1.")]
    private static partial void LogExposed(ILogger logger, string addresses);

    [LoggerMessage(LogLevel.Warning, "No API keys are configured (Conveyor:Api:Keys): the Jobs API listens on loopback addresses only and every request acts for the tenant 'default'.")]
    private static partial void LogNoKeys(ILogger logger);
}
