using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The <c>Location</c> of what a request created or acted on: with the request's <c>?tenant=</c> when it named one (an
/// admin key acting in another tenant), so that the same key finds it there; without it the URL would name the key's own
/// tenant's resource of that id, a 404.
/// </summary>
internal static class ResourceLocation
{
    public static string InRequestTenant(HttpContext http, string path) =>
        http.Request.Query.TryGetValue("tenant", out var tenant) && tenant is [{ Length: > 0 } name]
            ? $"{path}?tenant={Uri.EscapeDataString(name)}"
            : path;
}
