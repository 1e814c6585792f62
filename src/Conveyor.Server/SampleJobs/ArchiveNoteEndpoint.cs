using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// <c>POST /notes/{noteId}/archive</c>: the seed's NoteArchive through fire-and-forget. The request does not wait for
/// the store and cannot fail because of it: the job goes to the fire-and-forget queue (<c>Conveyor:FireAndForget:Queue</c>, low by default; three retries, as in the seed) in the
/// caller's tenant, and a job that could not be stored is logged and counted in
/// <c>job_fire_and_forget_dropped_total</c>. The answer has no job id; list the tenant's <c>note:archive</c> jobs to
/// follow them (<c>GET /jobs?type=note:archive</c>).
/// </summary>
internal static class ArchiveNoteEndpoint
{
    public static RouteHandlerBuilder MapArchiveNoteEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/notes/{noteId}/archive", ArchiveOverHttpAsync)
            .WithName("ArchiveNote")
            .WithSummary("Archive a note in the background (fire-and-forget: answers at once, no job id)")
            .ProducesValidationProblem();

    private static Task<Results<Accepted<ArchiveRequested>, ValidationProblem>> ArchiveOverHttpAsync(
        string noteId, HttpContext http, IFireAndForget background, IOptions<FireAndForgetOptions> fireAndForget) =>
        ArchiveAsync(noteId, http.GetConveyorCaller().Tenant, background, fireAndForget.Value, http.RequestAborted);

    internal static async Task<Results<Accepted<ArchiveRequested>, ValidationProblem>> ArchiveAsync(
        string noteId, string tenant, IFireAndForget background, FireAndForgetOptions fireAndForget, CancellationToken cancellationToken)
    {
        if (!SampleJobEndpoints.TryReadNoteId(noteId, out var id, out var problem))
        {
            return problem!;
        }

        // No queue of its own: the job goes to Conveyor:FireAndForget:Queue, which the answer names.
        var options = ArchiveNote.DefaultOptions with { Tenant = tenant };
        await background.EnqueueAsync(new ArchiveNote(id), options, cancellationToken);
        return TypedResults.Accepted((string?)null, new ArchiveRequested(id, options.Queue ?? fireAndForget.Queue));
    }

    /// <summary>The answer: which note, and the queue its job goes to.</summary>
    internal sealed record ArchiveRequested([property: JsonPropertyName("note_id")] long NoteId, [property: JsonPropertyName("queue")] string Queue);
}
