using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore;

/// <summary>
/// Runs before every Jobs API endpoint: refuses a path with a '.' or '..' segment (400, <see cref="DotSegments"/>),
/// resolves the caller from the API key (401), applies the caller's tenant rate
/// limit (429 with Retry-After), and turns an unreachable store into a 503 and a body the server cannot read into a
/// 400 (or the server's 413) instead of a 500.
/// </summary>
internal sealed partial class TenantEndpointFilter(
    ApiKeyTenantResolver resolver, TenantRateLimiter rateLimiter, IJobStore store, IConfiguration configuration, ConveyorMetrics metrics, ILogger<TenantEndpointFilter> logger) : IEndpointFilter
{
    // Without keys every request is an admin's and the server listens on loopback only; a DNS-rebinding page reaches it
    // through a visitor's browser under its own name, which the Host header says. AllowedHosts other than '*' is the
    // operator's own choice of names (ASP.NET Core's host filtering then answers the others).
    private readonly bool _loopbackHostsOnly = !resolver.KeysRequired && configuration["AllowedHosts"] is null or "" or "*";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (DotSegments.InRequestTarget(http))
        {
            return ApiProblems.DotSegment();
        }

        if (_loopbackHostsOnly && !IsLoopbackName(http.Request.Host))
        {
            return ApiProblems.HostNotLoopback(http.Request.Host.Value ?? "");
        }

        var caller = resolver.Resolve(http.Request);
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return ApiProblems.Unauthorized();
        }

        http.Items[ConveyorHttpContextExtensions.CallerKey] = caller;
        using var lease = rateLimiter.Acquire(caller.Tenant);
        if (!lease.IsAcquired)
        {
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return ApiProblems.TooManyRequests(caller.Tenant, seconds);
        }

        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException e)
        {
            // The reason without the stack: one line per refused request, which an outage sends by the thousand; the
            // server's own components log the failure with its exception once as they meet it.
            LogStoreUnavailable(logger, store.Name, http.Request.Method, http.Request.Path, e.Message);
            metrics.StoreUnavailable(StoreOperations.Api);
            http.Response.Headers.RetryAfter = "1";
            return ApiProblems.StoreUnavailable(store.Name, http.Request.Method, e.NothingWritten);
        }
        catch (BadHttpRequestException e)
        {
            // The server refused the body while the endpoint read it: the caller's fault, told as a problem, not a 500.
            return ApiProblems.Unreadable(e);
        }
    }

    /// <summary>localhost, a loopback address, or no Host at all (no browser sends a request without one).</summary>
    private static bool IsLoopbackName(HostString host) =>
        !host.HasValue
        || string.Equals(host.Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    [LoggerMessage(1005, LogLevel.Warning, "{method} {path}: the {store} store is unavailable; answered 503. {reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string store, string method, string path, string reason);
}
