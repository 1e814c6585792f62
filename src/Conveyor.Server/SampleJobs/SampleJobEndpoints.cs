using System.Globalization;
using Conveyor.AspNetCore;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Where the sample jobs' results are read: report files and the imported inventory. Both require the caller's API
/// key like the Jobs API, and a report is served only to the tenant of its job (another tenant gets a 404).
/// </summary>
internal static class SampleJobEndpoints
{
    public const string InventoryUrl = "/inventory";

    public static string ReportUrl(string jobId) => $"/reports/{jobId}.csv";

    /// <summary>
    /// A note id from a path: a positive 64-bit integer. Read by the endpoint rather than by a route constraint, which
    /// would answer anything else with a bare 404 (no such route) instead of naming the field.
    /// </summary>
    internal static bool TryReadNoteId(string text, out long noteId, out ValidationProblem? problem)
    {
        problem = null;
        noteId = 0;
        if (!text.StartsWith('0') && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out noteId) && noteId > 0)
        {
            return true;
        }

        problem = TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["noteId"] = [NoteIdRule] },
            detail: $"noteId: {NoteIdRule}",
            title: "The request is not valid.");
        return false;
    }

    private static readonly string JobIdRule = $"must be a job id: 1 to {JobId.MaxLength} letters, digits, '_', '-', ':' or '.'.";

    private const string NoteIdRule = "must be a positive whole number without leading zeros, at most 9223372036854775807.";

    /// <summary>
    /// The OpenAPI document says what <see cref="TryReadNoteId"/> takes: an integer from 1 to the int64 maximum (a digit
    /// pattern would also allow 19-digit values past it). The format says int64 too: a validator that reads the maximum
    /// as a double takes it as 2^63, which the format still refuses.
    /// </summary>
    internal static Task DescribeNoteId(Microsoft.OpenApi.OpenApiOperation operation)
    {
        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is Microsoft.OpenApi.OpenApiParameter { Name: "noteId" } noteId)
            {
                noteId.Schema = new Microsoft.OpenApi.OpenApiSchema
                {
                    Type = Microsoft.OpenApi.JsonSchemaType.Integer,
                    Format = "int64",
                    Minimum = "1",
                    Maximum = long.MaxValue.ToString(CultureInfo.InvariantCulture),
                    Description = "A note id: " + NoteIdRule,
                };
            }
        }

        return Task.CompletedTask;
    }

    public static void MapSampleJobEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapNoteEventEndpoints();
        // As the Jobs API's endpoints, the samples refuse a query parameter they do not read: none reads one.
        var group = endpoints.MapGroup("").RequireConveyorTenant().WithTags("Sample jobs").AnswerHeadAsGet();
        group.AddEndpointFilter<RouteGroupBuilder, NoStoreEndpointFilter>();
        group.AddEndpointFilter<RouteGroupBuilder, QueryParametersEndpointFilter>().ProducesValidationProblem();
        group.MapGet("/reports/{jobId}.csv", DownloadReportAsync).WithName("DownloadReport").WithSummary("The CSV file of a report:generate job")
            .Produces(StatusCodes.Status200OK, typeof(string), "text/csv")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapArchiveNoteEndpoint();
        group.MapGet(InventoryUrl, ListInventoryAsync).WithName("ListInventory").WithSummary("The inventory imported by bulk:import jobs (first 1000 rows by sku)");
    }

    internal static async Task<Results<PhysicalFileHttpResult, ValidationProblem, ProblemHttpResult>> DownloadReportAsync(
        string jobId, HttpContext http, IJobStore store, SampleDataDirectory data, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["jobId"] = [JobIdRule] },
                detail: $"jobId: {JobIdRule}",
                title: "The request is not valid.");
        }

        var tenant = http.GetConveyorCaller().Tenant;
        var job = await store.GetAsync(tenant, jobId, cancellationToken);
        var path = job is null ? null : data.ReportPath(tenant, jobId);
        if (job is null || job.Type != GenerateReport.JobType || path is null || !File.Exists(path))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No such report.",
                detail: $"There is no finished report '{jobId}' for this API key's tenant.");
        }

        return TypedResults.PhysicalFile(path, "text/csv", fileDownloadName: jobId + ".csv");
    }

    /// <summary>
    /// The inventory, or a 503 naming SQLite's reason when the sample's own database cannot be read (a full disk, a
    /// read-only directory): it is this server's file, not the job store, and a 500 would say nothing of it.
    /// </summary>
    internal static async Task<Results<Ok<IReadOnlyList<InventoryRow>>, ProblemHttpResult>> ListInventoryAsync(HttpContext http, InventoryDatabase inventory, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await inventory.ListAsync(http.GetConveyorCaller().Tenant, 1000, cancellationToken));
        }
        catch (SqliteException e)
        {
            // Busy, full, unable to open or an I/O error may pass; a file that is not a database (11, 26) will not.
            if (e.SqliteErrorCode is not (11 or 26))
            {
                http.Response.Headers.RetryAfter = "5";
            }

            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The sample inventory cannot be read.",
                detail: $"The bundled server's sample database (samples.db in its data directory) could not be read: {e.Message}");
        }
    }
}
