using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Conveyor.AspNetCore.Health;

/// <summary>
/// <c>conveyor_server</c>: this process's worker server runs and the store accepted its heartbeat within the heartbeat
/// expiry (15 s, three beats). Healthy when the process runs no worker server (an api-role process).
/// </summary>
internal sealed class ServerHeartbeatHealthCheck(IServiceProvider services, TimeProvider timeProvider) : IHealthCheck
{
    public const string Name = "conveyor_server";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService(typeof(JobServer)) is not JobServer server)
        {
            return Task.FromResult(HealthCheckResult.Healthy("No worker server runs in this process."));
        }

        if (!server.IsRunning)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The worker server {server.ServerId} is not running (not started yet, or stopping)."));
        }

        var last = server.LastHeartbeatAt;
        var data = new Dictionary<string, object> { ["server_id"] = server.ServerId };
        if (last is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The worker server {server.ServerId} has not made a heartbeat in the store yet.", data: data));
        }

        data["last_heartbeat"] = last.Value;
        var age = timeProvider.GetUtcNow() - last.Value;
        return Task.FromResult(age > Server.ServerHeartbeat.Expiry
            ? HealthCheckResult.Unhealthy($"The worker server {server.ServerId} made its last heartbeat {age.TotalSeconds:F0} s ago (expiry {Server.ServerHeartbeat.Expiry.TotalSeconds:F0} s): the store does not take it.", data: data)
            : HealthCheckResult.Healthy($"The worker server {server.ServerId} runs; last heartbeat {Math.Max(0, age.TotalSeconds):F0} s ago.", data));
    }
}
