using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore;

/// <summary>
/// Refuses a request that changes something when a browser sent it for a page of another origin: a page elsewhere can
/// POST to this server (a form, a no-cors fetch) without reading the answer, and on a server without keys every request
/// is an admin's. The rule is Go 1.25's net/http CrossOriginProtection: GET, HEAD and OPTIONS pass; otherwise a
/// <c>Sec-Fetch-Site</c> header must be <c>same-origin</c> or <c>none</c> (typed in, a bookmark); without one, an
/// <c>Origin</c> header must name the request's own <c>Host</c>; a request with neither did not come from a browser's
/// page (curl, another server) and passes. Browsers have sent one or the other on such requests for years.
/// With API keys the rule does not apply: every request needs its key in a header, which a page elsewhere cannot make a
/// browser send, and an application may let its own pages of another origin call the API (CORS), or sit behind a proxy
/// that rewrites Host.
/// </summary>
internal sealed class CrossOriginEndpointFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.RequestServices.GetService<ApiKeyTenantResolver>()?.KeysRequired != true
        && Refusal(context.HttpContext.Request) is { } reason
            ? ApiProblems.CrossOrigin(reason)
            : await next(context).ConfigureAwait(false);

    /// <summary>Why the request is refused; null when it may go on.</summary>
    public static string? Refusal(HttpRequest request)
    {
        var method = request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            return null;
        }

        if (request.Headers.TryGetValue("Sec-Fetch-Site", out var site))
        {
            var value = site.ToString();
            return value is "same-origin" or "none"
                ? null
                : $"Sec-Fetch-Site is '{Shorten(value)}': the browser sent this {method} for a page of another origin.";
        }

        if (request.Headers.TryGetValue("Origin", out var origin))
        {
            var value = origin.ToString();
            return string.Equals(HostOf(value), request.Headers.Host.ToString(), StringComparison.OrdinalIgnoreCase)
                ? null
                : $"Origin '{Shorten(value)}' is not this server's Host '{Shorten(request.Headers.Host.ToString())}': the browser sent this {method} for a page of another origin.";
        }

        return null;
    }

    /// <summary>The host[:port] of an origin (scheme://host[:port]) as written; null when it is not one ('null', for one).</summary>
    private static string? HostOf(string origin)
    {
        var start = origin.IndexOf("://", StringComparison.Ordinal);
        if (start <= 0)
        {
            return null;
        }

        var host = origin[(start + 3)..];
        return host.Length == 0 || host.Contains('/', StringComparison.Ordinal) ? null : host;
    }

    private static string Shorten(string text) => CreateJobRequestParser.Shorten(text);
}
