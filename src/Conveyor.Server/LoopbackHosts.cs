using System.Net;
using Microsoft.AspNetCore.HostFiltering;

namespace Conveyor.Server;

/// <summary>
/// Without API keys the server listens on loopback only, and every request is an admin's. A page on another site can
/// still reach it through the browser: a DNS-rebinding name (evil.example resolving to 127.0.0.1) makes the browser send
/// evil.example's requests, and show evil.example the answers, with <c>Host: evil.example:8080</c>. So without keys,
/// ASP.NET Core's host filtering takes only the loopback names (any port) unless the operator set AllowedHosts; with
/// keys, AllowedHosts is left as configured (every host by default).
/// </summary>
internal static class LoopbackHosts
{
    public static readonly string[] Names = ["localhost", "127.0.0.1", "[::1]"];

    public static void AllowOnlyThoseWithoutKeys(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (configuration.GetSection("Conveyor:Api:Keys").GetChildren().Any() || !string.IsNullOrEmpty(configuration["AllowedHosts"]))
        {
            return;
        }

        // The host's own defaults read AllowedHosts only when nothing set the hosts before them. A loopback address of
        // the server's own (--urls http://127.0.0.2:8080) is a name its clients use too.
        string[] hosts = [.. Names, .. ConfiguredLoopbackAddresses(configuration)];
        // An empty Host (allowed by default, for HTTP/1.0 clients) names no loopback name: the docs promise a 400.
        builder.Services.Configure<HostFilteringOptions>(options =>
        {
            options.AllowedHosts = hosts;
            options.AllowEmptyHosts = false;
        });
    }

    /// <summary>The loopback IP addresses of the configured URLs (urls, Kestrel:Endpoints), as a Host header names them.</summary>
    private static IEnumerable<string> ConfiguredLoopbackAddresses(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(static e => e["Url"]).OfType<string>());
        foreach (var url in urls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address))
            {
                yield return uri.Host;
            }
        }
    }
}
