using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>The fleet's worker servers: an operator view across tenants, so it needs an admin key.</summary>
internal static class ServersEndpoints
{
    public static void Map(IEndpointRouteBuilder group) =>
        group.MapGet("/servers", ListAsync).WithName("ListServers")
            .WithSummary("The worker servers with a current heartbeat: host, pid, queues and weights, concurrency, running jobs, start and last heartbeat")
            .AddEndpointFilter<AdminEndpointFilter>()
            .ProducesProblem(StatusCodes.Status403Forbidden);

    internal static async Task<Ok<ServerListResponse>> ListAsync(IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var servers = await store.ListServersAsync(cancellationToken).ConfigureAwait(false);

        // A registration whose heartbeat has expired is a server that stopped without saying so; it is not listed.
        return TypedResults.Ok(new ServerListResponse(servers
            .Where(s => s.ExpiresAt > now)
            .OrderBy(s => s.Id, StringComparer.Ordinal)
            .Select(s => new ServerResponse
            {
                Id = s.Id,
                Host = s.Host,
                ProcessId = s.ProcessId,
                Queues = s.Queues,
                Concurrency = s.Concurrency,
                Running = s.ActiveJobs,
                StartedAt = Rfc3339.Format(s.StartedAt),
                LastHeartbeatAt = Rfc3339.Format(s.LastHeartbeatAt),
            })
            .ToList()));
    }
}
