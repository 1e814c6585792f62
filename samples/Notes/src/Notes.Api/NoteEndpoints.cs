using Notes.UseCases;

namespace Notes.Api;

/// <summary>The notes API: HTTP in, use case, HTTP out.</summary>
public static class NoteEndpoints
{
    public static IEndpointRouteBuilder MapNoteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/notes", async (CreateNoteRequest request, CreateNoteUseCase create, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request.Title))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["is required."] });
            }

            var note = await create.ExecuteAsync(request.Title, cancellationToken);
            return Results.Created($"/notes/{note.Id}", new { id = note.Id, title = note.Title });
        });

        app.MapGet("/notes/{id:long}", async (long id, Domain.INoteRepository notes, CancellationToken cancellationToken) =>
            await notes.FindAsync(id, cancellationToken) is { } note
                ? Results.Ok(new { id = note.Id, title = note.Title, archived_at = note.ArchivedAt })
                : Results.NotFound());

        // 202 with the job's id: the archive happens in the worker.
        app.MapPost("/notes/{id:long}/archive", async (long id, RequestNoteArchiveUseCase request, CancellationToken cancellationToken) =>
        {
            var (outcome, jobId) = await request.ExecuteAsync(id, cancellationToken);
            return outcome switch
            {
                ArchiveRequestOutcome.Queued => Results.Accepted(value: new { job_id = jobId }),
                ArchiveRequestOutcome.AlreadyArchived => Results.Ok(new { id, archived = true }),
                _ => Results.NotFound(),
            };
        });

        return app;
    }
}

/// <summary>The body of <c>POST /notes</c>.</summary>
public sealed record CreateNoteRequest(string? Title);
