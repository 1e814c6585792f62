using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Conveyor.Server;

/// <summary>
/// ASP.NET Core's host filtering (the loopback names without keys, or the operator's AllowedHosts) runs ahead of the
/// application's pipeline, from a startup filter of its own, and answers a Host it does not take with an HTML page:
/// the one answer of the server's middleware that was not a problem (RFC 9457), although the OpenAPI document declares
/// problem+json for every 400 of the API. With its failure message off it answers a bare 400, which this startup
/// filter, placed ahead of it, writes as a problem naming the Host, as every Conveyor endpoint writes its errors.
/// </summary>
internal sealed class HostFilteringProblems : IStartupFilter
{
    public static void Register(IServiceCollection services)
    {
        services.Configure<HostFilteringOptions>(static options => options.IncludeFailureMessage = false);

        // Startup filters wrap one another in the order they were registered, and the host registered its host
        // filtering before any of the application's services: this one must come first to see what it answered.
        services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, HostFilteringProblems>());
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        // Only the host filtering's 400 leaves the application's pipeline without a body: the application's own
        // UseStatusCodePages has given every other error one.
        app.UseStatusCodePages(static context => context.HttpContext.Response.StatusCode == StatusCodes.Status400BadRequest
            ? Problem(context.HttpContext.Request.Host.Value).ExecuteAsync(context.HttpContext)
            : Task.CompletedTask);
        next(app);
    };

    private static IResult Problem(string? host) => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "The Host is not this server's.",
        detail: $"This server answers requests whose Host names it as it allows (AllowedHosts; without API keys, localhost or a loopback address only), and this one names '{CreateJobRequestParser.Shorten(host ?? "")}': " +
            "a page whose own name resolves to this machine (DNS rebinding) must not act through a visitor's browser. Use a name the server allows, or set AllowedHosts.");

    /// <summary>
    /// Declares that 400 in the OpenAPI document where it was only the server's own bodiless answer (/metrics, /healthz,
    /// /readyz): a Host the server does not take is a problem there too.
    /// </summary>
    public static Task Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        operation.Responses ??= [];
        if (!operation.Responses.TryGetValue("400", out var existing) || existing is OpenApiResponse { Content: null or { Count: 0 } })
        {
            operation.Responses["400"] = new OpenApiResponse
            {
                Description = "A Host the server does not take (AllowedHosts; without API keys, any name but localhost or a loopback address), as a problem naming it. "
                    + "A request the server cannot parse (a malformed request line, a header value whose bytes are not UTF-8) is answered by the server itself, before the application, without a body.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
                },
            };
        }

        return Task.CompletedTask;
    }
}
