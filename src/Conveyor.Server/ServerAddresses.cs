using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Conveyor.Server;

/// <summary>The server's address: 127.0.0.1:8080 unless configured, and a start-up line saying where it listens.</summary>
internal static partial class ServerAddresses
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Listens on <see cref="DefaultUrl"/> unless --urls, ASPNETCORE_URLS, *_HTTP_PORTS or Kestrel:Endpoints choose.</summary>
    public static void UseDefaultIfNoneConfigured(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var configured = !string.IsNullOrEmpty(configuration["urls"])
            || !string.IsNullOrEmpty(configuration["http_ports"])
            || !string.IsNullOrEmpty(configuration["https_ports"])
            || configuration.GetSection("Kestrel:Endpoints").Exists();
        if (!configured)
        {
            builder.WebHost.UseUrls(DefaultUrl);
            return;
        }

        // Kestrel:Endpoints replaces the urls setting (Kestrel ignores it then), so only the urls it will use are checked.
        var urls = configuration.GetSection("Kestrel:Endpoints").Exists() ? "" : configuration["urls"] ?? "";
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Unusable(url) is { } reason)
            {
                throw new InvalidSettingException($"--urls (or ASPNETCORE_URLS) '{url}' is not an address to listen on: {reason}; give one such as {DefaultUrl}.");
            }
        }
    }

    /// <summary>Why Kestrel could not listen on <paramref name="url"/> (it would throw from its start), or null.</summary>
    private static string? Unusable(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return "it is not scheme://host:port";
        }

        if (!address.IsUnixPipe && !address.IsNamedPipe && address.Scheme is not ("http" or "https"))
        {
            return $"the scheme '{address.Scheme}' is not http or https";
        }

        return address.Port is < 0 or > 65535 ? $"the port {address.Port} is not one from 0 to 65535" : null;
    }

    public static void PrintWhenStarted(WebApplication app, string endpoints, string store)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conveyor.Server");
            LogListening(logger, string.Join(", ", addresses), endpoints, store);
        });
        app.Lifetime.ApplicationStopping.Register(() =>
            LogStopping(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conveyor.Server")));
    }

    [LoggerMessage(1100, LogLevel.Information, "Conveyor server listening on {addresses} ({endpoints}); store: {store}. Press Ctrl+C to stop.")]
    private static partial void LogListening(ILogger logger, string addresses, string endpoints, string store);

    [LoggerMessage(1102, LogLevel.Information, "Stopping: no new jobs are taken; running jobs get the shutdown timeout (Conveyor:Server:ShutdownTimeout) to finish.")]
    private static partial void LogStopping(ILogger logger);
}
