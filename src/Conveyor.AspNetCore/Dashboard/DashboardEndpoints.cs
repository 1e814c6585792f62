using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.Dashboard;

/// <summary>
/// Serves the dashboard: the page at the pattern (with the API's address, the read-only setting and whether the API
/// needs a key in a meta tag, so no inline script is needed and the Content-Security-Policy can forbid them) and its
/// files under it.
/// </summary>
internal sealed class DashboardEndpoints(DashboardAssets assets, ConveyorDashboardOptions options, int maxPageSize, bool keysRequired, string pattern, string apiPrefix)
{
    /// <summary>Only the dashboard's own files run; it talks only to its own origin; no page may frame it.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public IResult Page(HttpContext http)
    {
        var pathBase = http.Request.PathBase.Value ?? "";
        var config = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["api"] = pathBase + apiPrefix.TrimEnd('/'),
            ["base"] = pathBase + pattern.TrimEnd('/'),
            ["readOnly"] = options.ReadOnly,
            ["maxPageSize"] = maxPageSize,
            ["keysRequired"] = keysRequired,
        });
        var html = Encoding.UTF8.GetString(assets.Index.Content)
            .Replace("__BASE__", WebUtility.HtmlEncode(pathBase + pattern.TrimEnd('/')), StringComparison.Ordinal)
            .Replace("__CONFIG__", WebUtility.HtmlEncode(config), StringComparison.Ordinal);
        SetSecurityHeaders(http.Response);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Text(html, assets.Index.ContentType);
    }

    public IResult File(HttpContext http, string file)
    {
        if (assets.Find(file) is not { } asset || file == "index.html")
        {
            return TypedResults.NotFound();
        }

        SetSecurityHeaders(http.Response);
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = asset.ETag;
        return http.Request.Headers.IfNoneMatch.Contains(asset.ETag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    private static void SetSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}
