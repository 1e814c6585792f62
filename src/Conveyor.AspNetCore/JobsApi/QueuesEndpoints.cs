using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Queue statistics, pause and resume: operator actions that span tenants, so they need an admin key.</summary>
internal static class QueuesEndpoints
{
    public static void Map(IEndpointRouteBuilder group)
    {
        var queues = group.MapGroup("/queues").AddEndpointFilter<AdminEndpointFilter>().ProducesProblem(StatusCodes.Status403Forbidden);
        queues.MapGet("", ListAsync).WithName("ListQueues")
            .WithSummary("Every queue a live server serves or that has jobs: jobs per status, servers, whether it is paused, its latency and the limits in force on it");
        queues.MapPost("/{name}/pause", PauseAsync).WithName("PauseQueue")
            .WithSummary("Stop workers from taking jobs from the queue (enqueues still succeed); 404 for a queue no server serves and no job is in")
            .ProducesProblem(StatusCodes.Status404NotFound);
        queues.MapPost("/{name}/resume", ResumeAsync).WithName("ResumeQueue")
            .WithSummary("Let workers take jobs from the queue again; 404 for a queue no server serves and no job is in")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<Ok<QueueListResponse>> ListAsync(IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var queues = await KnownQueues.ReadAsync(store, cancellationToken).ConfigureAwait(false);
        var limits = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        var now = timeProvider.GetUtcNow();
        return TypedResults.Ok(new QueueListResponse(queues.Select(q => JobResponseMapper.ToResponse(q.Stats, q.Servers, now, limits)).ToList()));
    }

    internal static Task<Results<Ok<QueueResponse>, ValidationProblem, ProblemHttpResult>> PauseAsync(string name, IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        SetPausedAsync(name, paused: true, store, timeProvider, cancellationToken);

    internal static Task<Results<Ok<QueueResponse>, ValidationProblem, ProblemHttpResult>> ResumeAsync(string name, IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        SetPausedAsync(name, paused: false, store, timeProvider, cancellationToken);

    /// <summary>
    /// Pauses or resumes a queue that a live server serves or that has jobs or is paused; any other name is a 404,
    /// so that a typo does not pause a queue nobody uses and leave the real one running.
    /// </summary>
    private static async Task<Results<Ok<QueueResponse>, ValidationProblem, ProblemHttpResult>> SetPausedAsync(
        string name, bool paused, IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!QueueName.IsValid(name))
        {
            return ApiProblems.Invalid("name", $"'{(name.Length <= 80 ? name : name[..77] + "...")}' is not a queue name: 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
        }

        var servers = Find(await KnownQueues.ReadAsync(store, cancellationToken).ConfigureAwait(false), name)?.Servers;
        if (servers is null)
        {
            return ApiProblems.QueueNotFound(name);
        }

        if (paused)
        {
            await store.PauseQueueAsync(name, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await store.ResumeQueueAsync(name, cancellationToken).ConfigureAwait(false);
        }

        var stats = (await store.GetQueueStatsAsync(cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(s => string.Equals(s.Queue, name, StringComparison.Ordinal))
            ?? new QueueStats { Queue = name, Paused = paused };
        var limits = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(JobResponseMapper.ToResponse(stats, servers.Value, timeProvider.GetUtcNow(), limits));
    }

    private static (QueueStats Stats, int Servers)? Find(IReadOnlyList<(QueueStats Stats, int Servers)> queues, string name)
    {
        foreach (var queue in queues)
        {
            if (string.Equals(queue.Stats.Queue, name, StringComparison.Ordinal))
            {
                return queue;
            }
        }

        return null;
    }
}
