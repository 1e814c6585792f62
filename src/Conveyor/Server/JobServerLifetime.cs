using Microsoft.Extensions.Hosting;

namespace Conveyor.Server;

/// <summary>
/// Places the worker server in the host's lifecycle. Workers start once every hosted service has started (in a web
/// host, once the HTTP listener is bound), so a server that cannot listen never takes a job. They drain when the
/// host begins to stop, before any hosted service stops, so the web server keeps answering <c>/healthz</c> and
/// <c>/readyz</c> (as draining) throughout the grace period and the services handlers use are still there.
/// </summary>
internal sealed class JobServerLifetime(JobServer server, IHostApplicationLifetime lifetime) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Says "stopping" to everyone (health endpoints answer draining) before the grace period, also when the host is
        // stopped directly rather than through a signal; a no-op when a signal already did.
        lifetime.StopApplication();
        return server.StopAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
