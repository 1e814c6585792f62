using System.Text.Json.Serialization;
using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.Server.SampleJobs;

/// <summary>The fan-out sample's endpoint: publishes <see cref="NoteCreated"/> for the caller's tenant.</summary>
internal static partial class NoteEventEndpoints
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

    internal static async Task<Results<Accepted<PublishedEvent>, ValidationProblem, ProblemHttpResult>> PublishNoteCreatedAsync(
        string noteId, HttpContext http, IEventPublisher events, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!SampleJobEndpoints.TryReadNoteId(noteId, out var id, out var problem))
        {
            return problem!;
        }

        return await PublishAsync(id, http.GetConveyorCaller().Tenant, events, loggers.CreateLogger(typeof(NoteEventEndpoints)), cancellationToken);
    }

    internal static async Task<Results<Accepted<PublishedEvent>, ValidationProblem, ProblemHttpResult>> PublishAsync(
        long noteId, string tenant, IEventPublisher events, ILogger logger, CancellationToken cancellationToken)
    {
        PublishResult result;
        try
        {
            result = await events.PublishAsync(new NoteCreated(noteId), new PublishOptions { Tenant = tenant }, cancellationToken);
        }
        catch (ArgumentException e)
        {
            // The note id is checked above and the publish has no options of the caller's, so a refusal here is of the
            // server's own subscribers: a store that cannot store them all or none (a Redis Cluster, subscribers on
            // queues of two slots). Neither the caller's to fix (a 400) nor passing (a 503): a 500 whose detail says
            // what to change, and an error in the server's log for its operator.
            LogRefused(logger, e);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status500InternalServerError,
                title: "The server cannot publish note:created with its subscribers on this store.",
                detail: e.Message.Split(" (Parameter", 2)[0]);
        }

        return TypedResults.Accepted((string?)null, new PublishedEvent(
            result.EventType,
            result.Jobs.Select(j => new PublishedJob(j.Subscriber, j.JobType, j.Queue, j.JobId)).ToList()));
    }

    [LoggerMessage(1203, LogLevel.Error, "The store refused the subscribers of note:created; every publish will fail until they are registered as it asks")]
    private static partial void LogRefused(ILogger logger, Exception exception);
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
