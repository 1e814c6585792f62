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
        var queues = group.MapGroup("/queues").AddEndpointFilter<AdminEndpointFilter>();
        queues.MapGet("", ListAsync).WithName("ListQueues").WithSummary("Jobs per status for every queue, whether it is paused, and its latency");
        queues.MapPost("/{name}/pause", PauseAsync).WithName("PauseQueue").WithSummary("Stop workers from taking jobs from the queue (enqueues still succeed)");
        queues.MapPost("/{name}/resume", ResumeAsync).WithName("ResumeQueue").WithSummary("Let workers take jobs from the queue again");
    }

    internal static async Task<Ok<QueueListResponse>> ListAsync(IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var stats = await store.GetQueueStatsAsync(cancellationToken).ConfigureAwait(false);
        var now = timeProvider.GetUtcNow();
        return TypedResults.Ok(new QueueListResponse(stats.Select(s => JobResponseMapper.ToResponse(s, now)).ToList()));
    }

    internal static Task<Results<Ok<QueueResponse>, ValidationProblem>> PauseAsync(string name, IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        SetPausedAsync(name, paused: true, store, timeProvider, cancellationToken);

    internal static Task<Results<Ok<QueueResponse>, ValidationProblem>> ResumeAsync(string name, IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        SetPausedAsync(name, paused: false, store, timeProvider, cancellationToken);

    private static async Task<Results<Ok<QueueResponse>, ValidationProblem>> SetPausedAsync(
        string name, bool paused, IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!QueueName.IsValid(name))
        {
            return ApiProblems.Invalid("name", $"'{(name.Length <= 80 ? name : name[..77] + "...")}' is not a queue name: 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
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
        return TypedResults.Ok(JobResponseMapper.ToResponse(stats, timeProvider.GetUtcNow()));
    }
}
