using Conveyor.AspNetCore.JobsApi.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Who the API key is, for any key: a client learns whether it may show the operator's views (the dashboard does)
/// without asking an admin-only endpoint and reading its 403.
/// </summary>
internal static class CallerEndpoint
{
    public static void Map(IEndpointRouteBuilder group) =>
        group.MapGet("/caller", Get).WithName("GetCaller")
            .WithSummary("The tenant this API key acts in, and whether it is an admin key (admin keys read and change what spans tenants)");

    internal static Ok<CallerResponse> Get(HttpContext http)
    {
        var caller = http.GetConveyorCaller();
        return TypedResults.Ok(new CallerResponse(caller.Tenant, caller.IsAdmin));
    }
}
