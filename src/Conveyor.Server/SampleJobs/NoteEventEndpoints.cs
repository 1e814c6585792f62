using System.Text.Json.Serialization;
using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.Server.SampleJobs;

/// <summary>The fan-out sample's endpoint: publishes <see cref="NoteCreated"/> for the caller's tenant.</summary>
internal static class NoteEventEndpoints
{
    public static void MapNoteEventEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("").RequireConveyorTenant().WithTags("Sample jobs")
            .AddEndpointFilter<RouteGroupBuilder, QueryParametersEndpointFilter>()
            .MapPost("/notes/{noteId}/created", PublishNoteCreatedAsync)
            .WithName("PublishNoteCreated")
            .WithSummary("Publishes note:created: one job per subscriber (index-note, notify-followers), stored all or none")
            .ProducesValidationProblem();
    }

    internal static async Task<Results<Accepted<PublishedEvent>, ValidationProblem>> PublishNoteCreatedAsync(string noteId, HttpContext http, IEventPublisher events, CancellationToken cancellationToken)
    {
        if (!SampleJobEndpoints.TryReadNoteId(noteId, out var id, out var problem))
        {
            return problem!;
        }

        var result = await events.PublishAsync(new NoteCreated(id), new PublishOptions { Tenant = http.GetConveyorCaller().Tenant }, cancellationToken);
        return TypedResults.Accepted((string?)null, new PublishedEvent(
            result.EventType,
            result.Jobs.Select(j => new PublishedJob(j.Subscriber, j.JobType, j.Queue, j.JobId)).ToList()));
    }
}

/// <summary>The answer of <c>POST /notes/{id}/created</c>: the job of each subscriber.</summary>
internal sealed record PublishedEvent(
    [property: JsonPropertyName("event_type")] string EventType,
    [property: JsonPropertyName("jobs")] IReadOnlyList<PublishedJob> Jobs);

internal sealed record PublishedJob(
    [property: JsonPropertyName("subscriber")] string Subscriber,
    [property: JsonPropertyName("job_type")] string JobType,
    [property: JsonPropertyName("queue")] string Queue,
    [property: JsonPropertyName("job_id")] string JobId);
