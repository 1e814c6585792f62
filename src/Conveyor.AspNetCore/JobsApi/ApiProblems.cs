using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Every error of the Jobs API, as <c>application/problem+json</c> (RFC 9457) with a detail a person can act on.
/// Invalid input is a validation problem whose <c>errors</c> name the field and the reason.
/// </summary>
internal static class ApiProblems
{
    public static ValidationProblem Invalid(string field, string reason) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [reason] },
            detail: $"{field}: {reason}",
            title: "The request is not valid.");

    /// <summary>
    /// A 400 like <see cref="Invalid"/> for a body whose bytes are not UTF-8, answered where the body is read (so as a
    /// <see cref="ProblemHttpResult"/>), naming the offset of the first byte that is not.
    /// </summary>
    public static ProblemHttpResult NotUtf8(string field, int offset)
    {
        var reason = string.Create(CultureInfo.InvariantCulture, $"is not valid UTF-8 (byte {offset} is not), so it is not JSON; send JSON text encoded as UTF-8.");
        return TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [reason] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is not valid.",
            Detail = $"{field}: {reason}",
        });
    }

    public static ProblemHttpResult DotSegment() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "The path is not valid.",
        detail: "The path holds a '.' or '..' segment, which names no job, queue, schedule or limit (the server would read it as another path).");

    public static ProblemHttpResult HostNotLoopback(string host) => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "The Host is not this server's.",
        detail: $"Without API keys the Jobs API answers requests that name it localhost or a loopback address only, and this one names '{CreateJobRequestParser.Shorten(host)}': " +
            "a page whose own name resolves to this machine (DNS rebinding) must not act through a visitor's browser. Set AllowedHosts to the names clients use, or configure API keys.");

    /// <summary>A 403 for a request that reached a non-loopback address of a server without keys, in the moment before it stops (the loopback guard).</summary>
    public static ProblemHttpResult NotLoopbackAddress() => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "This server answers on loopback addresses only.",
        detail: "No API keys are configured (Conveyor:Api:Keys), so the Jobs API may be reached on loopback addresses only, and this request came to another one. Configure API keys or listen on 127.0.0.1.");

    public static ProblemHttpResult Unauthorized() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "An API key is required.",
        detail: $"Send a valid API key as 'Authorization: Bearer <key>' or '{ApiKeyTenantResolver.ApiKeyHeader}: <key>' (not two different keys, one in each).");

    public static ProblemHttpResult Forbidden() => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "This API key may not do that.",
        detail: "This endpoint reads or changes what every tenant shares (queues, servers, throughput, limits): use an admin key (Conveyor:Api:Keys:N:Admin = true).");

    /// <summary>A 403 for a browser's request from a page of another origin (<see cref="CrossOriginEndpointFilter"/>).</summary>
    public static ProblemHttpResult CrossOrigin(string reason) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "A cross-origin request is refused.",
        detail: $"{reason} Conveyor takes requests that change something from its own pages (the dashboard) and from clients that are not browsers; nothing was done.");

    /// <summary>A 403 for a well-formed value this key may not use (another tenant, every tenant), naming the field.</summary>
    public static ProblemHttpResult ForbiddenTenant(string field, string reason) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "This API key may not do that.",
        detail: $"{field}: {reason}",
        extensions: new Dictionary<string, object?> { ["field"] = field });

    public static ProblemHttpResult JobNotFound(string jobId) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "No such job.",
        detail: $"There is no job '{jobId}' in this tenant (the API key's, or the one ?tenant= names).");

    public static ProblemHttpResult ScheduleNotFound(string name) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "No such schedule.",
        detail: $"There is no schedule '{name}' in this tenant (the API key's, or the one ?tenant= names; schedules defined in code or configuration are the 'default' tenant's).");

    public static ProblemHttpResult QueueNotFound(string queue) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "No such queue.",
        detail: $"No live server serves queue '{queue}' and it holds no jobs: check its name against GET /queues.");

    public static ProblemHttpResult Conflict(string title, string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);

    /// <summary>A 413 naming what is too large, its size (at least <paramref name="size"/> when the rest was not read) and the limit.</summary>
    public static ProblemHttpResult TooLarge(string field, long size, bool sizeIsExact, long limit, string setting) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        type: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        title: "The request is too large.",
        detail: string.Create(CultureInfo.InvariantCulture, $"{field}: {(sizeIsExact ? "" : "at least ")}{size} bytes; the limit ({setting}) is {limit} bytes."),
        extensions: new Dictionary<string, object?> { ["field"] = field, ["limit"] = limit });

    /// <summary>A request the server could not read (a malformed chunked body, a body over the server's own limit).</summary>
    public static ProblemHttpResult Unreadable(BadHttpRequestException e) => TypedResults.Problem(
        statusCode: e.StatusCode,
        type: e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "https://tools.ietf.org/html/rfc9110#section-15.5.14" : null,
        title: "The request could not be read.",
        detail: e.Message);

    public static ProblemHttpResult TooManyRequests(string tenant, int retryAfterSeconds) => TypedResults.Problem(
        statusCode: StatusCodes.Status429TooManyRequests,
        type: "https://tools.ietf.org/html/rfc6585#section-4",
        title: "Too many requests.",
        detail: $"Tenant '{tenant}' is over its rate limit (Conveyor:Api:RateLimit); try again in {retryAfterSeconds} s.");

    /// <summary>
    /// The store's own error text stays in the server log: a client library's message carries its internals (thread
    /// pool statistics, endpoints, links) that mean nothing to the caller and say too much about the deployment.
    /// </summary>
    public static ProblemHttpResult StoreTimedOut(string store, TimeSpan timeout, string method) => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The job store is unavailable.",
        detail: string.Create(CultureInfo.InvariantCulture, $"The {store} job store did not answer within {timeout.TotalSeconds:0.###} s; try again shortly{(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? "." : " (a create or a change may have been stored all the same: repeat a create with its Idempotency-Key).")}"));

    /// <summary>
    /// A 503; only a request that can change something is told it may have been stored (a read never was), unless the
    /// store refused it before writing (<see cref="Conveyor.Storage.JobStoreUnavailableException.NothingWritten"/>).
    /// </summary>
    public static ProblemHttpResult StoreUnavailable(string store, string method, bool nothingWritten) => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The job store is unavailable.",
        detail: nothingWritten
            ? $"The {store} job store refused the request before storing anything (it cannot store writes safely just now); try again shortly. The server log has the details."
            : $"The {store} job store could not serve the request (unreachable, unable to store writes safely just now, or busy with changes that conflict with it); try again shortly{(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? "" : " (a create may have been stored all the same: repeat it with the same Idempotency-Key)")}. The server log has the details.");
}
