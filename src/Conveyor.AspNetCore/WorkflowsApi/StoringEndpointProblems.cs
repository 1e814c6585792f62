using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>The problems the endpoints that store a batch's or a workflow's jobs from a JSON body declare in the OpenAPI document.</summary>
internal static class StoringEndpointProblems
{
    /// <summary>
    /// 403 (another tenant than the key's), 404 when <paramref name="notFound"/> (the batch to add to), 409 (a job the
    /// store refused, a batch no longer running, an Idempotency-Key reused), 413, 415, and 501 (a store without batches).
    /// </summary>
    public static RouteHandlerBuilder ProducesStoringProblems(this RouteHandlerBuilder endpoint, bool notFound = false)
    {
        endpoint.ProducesProblem(StatusCodes.Status403Forbidden);
        if (notFound)
        {
            endpoint.ProducesProblem(StatusCodes.Status404NotFound);
        }

        return endpoint
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status501NotImplemented);
    }
}
