using Conveyor.Storage;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The tenant a single-job endpoint acts in: the key's own, or for an admin key the one <c>?tenant=</c> names (as an
/// every-tenant listing shows it), so that an operator reads, cancels, retries and deletes any tenant's job by its id.
/// </summary>
internal static class JobTenantParameter
{
    public static bool TryRead(HttpContext http, out string tenant, out ParseError? error)
    {
        var caller = http.GetConveyorCaller();
        var scope = new JobQuery { Tenant = caller.Tenant };
        error = null;
        foreach (var (name, values) in http.Request.Query)
        {
            if (name != "tenant" || values.Count != 1)
            {
                error = new ParseError(name, name == "tenant" ? "must be given once." : "is not a query parameter of this endpoint; it takes: tenant.");
                break;
            }

            if (!JobFilterParser.TryApply(name, values[0] ?? "", caller, ref scope, out error))
            {
                break;
            }

            if (scope.Tenant is null)
            {
                error = new ParseError(name, "must name one tenant ('*', every tenant, is for listings).");
                break;
            }
        }

        tenant = scope.Tenant ?? caller.Tenant;
        return error is null;
    }
}
