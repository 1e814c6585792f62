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
        }
    }

    public static void PrintWhenStarted(WebApplication app, string store)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conveyor.Server");
            LogListening(logger, string.Join(", ", addresses), store);
        });
        app.Lifetime.ApplicationStopping.Register(() =>
            LogStopping(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conveyor.Server")));
    }

    [LoggerMessage(LogLevel.Information, "Conveyor server listening on {addresses} (API, dashboard at /dashboard, metrics at /metrics); store: {store}. Press Ctrl+C to stop.")]
    private static partial void LogListening(ILogger logger, string addresses, string store);

    [LoggerMessage(LogLevel.Information, "Stopping: no new jobs are taken; running jobs get the shutdown timeout (Conveyor:Server:ShutdownTimeout) to finish.")]
    private static partial void LogStopping(ILogger logger);
}
