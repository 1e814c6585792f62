using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Marks every answer of the endpoints it filters as one no cache may keep and no browser may read as another type:
/// they carry one tenant's jobs, and a key sent in <c>X-Api-Key</c> rather than <c>Authorization</c> would not stop a
/// shared cache from storing them by its own heuristics.
/// </summary>
internal sealed class NoStoreEndpointFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        Mark(context.HttpContext.Response);
        return next(context);
    }

    /// <summary>The headers, for an answer of the API's given before any endpoint (a path refused before routing).</summary>
    public static void Mark(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
    }
}
