using System.Net;
using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore;

/// <summary>
/// Without API keys anyone who reaches the API acts for the default tenant, so it must not be reachable from another
/// machine: before the server binds, every configured address (the urls setting, and each of Kestrel:Endpoints) must
/// be a loopback one, or start-up fails. Endpoints configured in code are known only once bound: those are checked
/// then, the application stops with exit code 1, and until it has stopped a request that arrived on another address
/// is refused.
/// </summary>
internal sealed partial class LoopbackGuard(IServer server, ApiKeyTenantResolver resolver, IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<LoopbackGuard> logger) : IStartupFilter
{
    /// <summary>Why the application was stopped after it bound a non-loopback address; null when it was not.</summary>
    public string? StoppedBecause { get; private set; }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        if (resolver.KeysRequired)
        {
            return next;
        }

        // Startup filters run after the host copied the configured URLs into the feature and before the server binds.
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count > 0)
        {
            // An options failure: hosts report it as a bad setting (the Conveyor server as one line, exit code 1).
            throw Refused($"it is configured to listen on {string.Join(", ", exposed)}");
        }

        // Kestrel reads its own section when it binds, after this; its addresses replace the urls setting then.
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(e => (Setting: $"Kestrel:Endpoints:{e.Key}:Url", Url: e["Url"]))
            .Where(e => !string.IsNullOrEmpty(e.Url) && !IsLoopback(e.Url))
            .ToList();
        if (endpoints.Count > 0)
        {
            throw Refused(string.Join(", ", endpoints.Select(e => $"{e.Setting} is {e.Url}")));
        }

        LogNoKeys(logger);

        // Endpoints configured in code are known only once bound: check those too, and stop.
        lifetime.ApplicationStarted.Register(() =>
        {
            var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.Where(a => !IsLoopback(a)).ToList() ?? [];
            if (bound.Count > 0)
            {
                StoppedBecause = $"Conveyor:Api:Keys is empty, so the Jobs API may listen on loopback addresses only, but the server listens on {string.Join(", ", bound)}. " +
                    "Configure API keys (Conveyor:Api:Keys:0:KeyHash and Conveyor:Api:Keys:0:Tenant) or listen on 127.0.0.1.";
                LogExposed(logger, string.Join(", ", bound));

                // A stop for a setting is a failure: a host that returns from Main without a code of its own exits with 1.
                Environment.ExitCode = 1;
                lifetime.StopApplication();
            }
        });

        return app =>
        {
            // Until the stop above, nothing is answered to a request that reached a non-loopback address.
            app.Use((http, nextMiddleware) =>
            {
                if (http.Connection.LocalIpAddress is { } local && !IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local))
                {
                    return ApiProblems.NotLoopbackAddress().ExecuteAsync(http);
                }

                return nextMiddleware(http);
            });
            next(app);
        };
    }

    private static Microsoft.Extensions.Options.OptionsValidationException Refused(string where) =>
        new(ConveyorApiOptions.SectionName, typeof(ConveyorApiOptions), [
            $"Conveyor:Api:Keys is empty, so the Jobs API may listen on loopback addresses only, but {where}. " +
            "Configure API keys (Conveyor:Api:Keys:0:KeyHash and Conveyor:Api:Keys:0:Tenant) or listen on 127.0.0.1 (--urls http://127.0.0.1:8080)."]);

    internal static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        // A Unix socket or a named pipe is local by nature: no other machine reaches it.
        if (uri.Scheme is "unix" || address.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://unix:", StringComparison.OrdinalIgnoreCase)
            || address.StartsWith("http://pipe:", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://pipe:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    [LoggerMessage(1003, LogLevel.Critical, "Conveyor:Api:Keys is empty but the server listens on {addresses}, which are not loopback addresses: stopping. Configure API keys or listen on 127.0.0.1.")]
    private static partial void LogExposed(ILogger logger, string addresses);

    [LoggerMessage(1004, LogLevel.Warning, "No API keys are configured (Conveyor:Api:Keys): the Jobs API listens on loopback addresses only and every request acts for the tenant 'default'.")]
    private static partial void LogNoKeys(ILogger logger);
}
