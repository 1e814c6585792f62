using System.Buffers;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// <c>POST /jobs/bulk</c>: retry, cancel or delete the listed jobs, or the jobs a filter matches in bounded batches
/// (one listing page and one bulk store call per request), so that a caller loops on next_cursor and shows progress.
/// </summary>
internal static class BulkJobsEndpoint
{
    public static void Map(IEndpointRouteBuilder group) =>
        group.MapPost("/jobs/bulk", BulkAsync).WithName("BulkJobs")
            .WithSummary("Retry, cancel or delete many jobs: listed ids, or a batch of the jobs a filter matches")
            .WithDescription("Body: {\"action\": \"retry\"|\"cancel\"|\"delete\", \"ids\": [...]} (1 to 1000 ids, optional \"tenant\") or {\"action\": ..., \"filter\": {\"status\", \"type\", \"queue\", \"error\", \"created_after\", \"created_before\", \"tenant\"}, \"cursor\": null, \"limit\": 500}. A job whose state does not allow the action is skipped and counted, never an error. With a filter, call again with next_cursor until it is null.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    internal static async Task<Results<Ok<BulkJobsResponse>, ValidationProblem, ProblemHttpResult>> BulkAsync(
        HttpContext http, IJobStore store, IOptions<ConveyorApiOptions> apiOptions, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, apiOptions.Value.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return problem!;
        }

        var request = BulkJobsRequestParser.Parse(new ReadOnlySequence<byte>(body), http.GetConveyorCaller(), out var error);
        if (request is null)
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        IReadOnlyList<string> ids;
        string? tenant;
        string? next = null;
        if (request.Filter is { } filter)
        {
            var page = await store.ListAsync(filter, cancellationToken).ConfigureAwait(false);
            ids = [.. page.Jobs.Select(static j => j.Id)];
            tenant = filter.Tenant;
            next = page.NextCursor;
        }
        else
        {
            ids = request.Ids!;
            tenant = request.IdsTenant;
        }

        var results = ids.Count == 0 ? [] : await store.RunBulkAsync(request.Action, tenant, ids, cancellationToken).ConfigureAwait(false);
        var applied = results.Count(static r => r is JobCommandResult.Done or JobCommandResult.Requested);
        var skipped = results.Count(static r => r == JobCommandResult.NotAllowed);

        // A job the filter listed may be gone by the time the action reaches it (deleted or purged meanwhile): it no
        // longer matches, and is counted nowhere.
        return TypedResults.Ok(new BulkJobsResponse(applied + skipped, applied, skipped, next));
    }
}
