using Conveyor.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Where the sample jobs' results are read: report files and the imported inventory. Both require the caller's API
/// key like the Jobs API, and a report is served only to the tenant of its job (another tenant gets a 404).
/// </summary>
internal static class SampleJobEndpoints
{
    public const string InventoryUrl = "/inventory";

    public static string ReportUrl(string jobId) => $"/reports/{jobId}.csv";

    public static void MapSampleJobEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapNoteEventEndpoints();
        var group = endpoints.MapGroup("").RequireConveyorTenant().WithTags("Sample jobs");
        group.MapGet("/reports/{jobId}.csv", DownloadReportAsync).WithName("DownloadReport").WithSummary("The CSV file of a report:generate job");
        group.MapArchiveNoteEndpoint();
        group.MapGet(InventoryUrl, ListInventoryAsync).WithName("ListInventory").WithSummary("The inventory imported by bulk:import jobs (first 1000 rows by sku)");
    }

    internal static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> DownloadReportAsync(
        string jobId, HttpContext http, IJobStore store, SampleDataDirectory data, CancellationToken cancellationToken)
    {
        var tenant = http.GetConveyorCaller().Tenant;
        var job = JobId.IsValid(jobId) ? await store.GetAsync(tenant, jobId, cancellationToken) : null;
        var path = job is null ? null : data.ReportPath(tenant, jobId);
        if (job is null || job.Type != GenerateReport.JobType || !File.Exists(path))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No such report.",
                detail: $"There is no finished report '{jobId}' for this API key's tenant.");
        }

        return TypedResults.PhysicalFile(path, "text/csv", fileDownloadName: jobId + ".csv");
    }

    internal static async Task<Ok<IReadOnlyList<InventoryRow>>> ListInventoryAsync(HttpContext http, InventoryDatabase inventory, CancellationToken cancellationToken) =>
        TypedResults.Ok(await inventory.ListAsync(http.GetConveyorCaller().Tenant, 1000, cancellationToken));
}
