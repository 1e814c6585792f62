using Conveyor.AspNetCore;
using Conveyor.AspNetCore.Dashboard;
using Conveyor.AspNetCore.Health;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.Metrics;
using Conveyor.AspNetCore.SchedulesApi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Conveyor's HTTP endpoints into an application (register their services with <c>AddApi()</c> first).</summary>
public static class ConveyorEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the Jobs API under <paramref name="prefix"/>: <c>POST /jobs</c>, <c>GET /jobs/{id}</c>, <c>GET /jobs</c>,
    /// <c>POST /jobs/{id}/cancel</c>, <c>POST /jobs/{id}/retry</c>, <c>DELETE /jobs/{id}</c>, <c>POST /jobs/bulk</c>,
    /// <c>GET /stats/throughput</c>, <c>GET /caller</c>, <c>GET /queues</c>,
    /// <c>POST /queues/{name}/pause</c> and <c>/resume</c>, and the schedules: <c>GET /schedules</c>,
    /// <c>GET /schedules/{name}</c>, <c>POST /schedules</c>, <c>PUT /schedules/{name}</c>, <c>DELETE /schedules/{name}</c>,
    /// <c>POST /schedules/{name}/pause</c>, <c>/resume</c> and <c>/trigger</c>, and the limits in force: <c>GET /limits</c>,
    /// <c>GET</c>, <c>PUT</c> and <c>DELETE /limits/{kind}/{name}</c>, and batches and workflows:
    /// <c>GET /batches/{id}</c>, <c>POST /batches/{id}/cancel</c>, <c>GET /workflows/{id}</c>. Every endpoint resolves the caller's tenant from its API key
    /// and applies the tenant's rate limit. Returns the group so the application can add conventions of its own.
    /// </summary>
    public static RouteGroupBuilder MapConveyorApi(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ThrowIfNotRegistered(endpoints);
        var group = endpoints.MapGroup(prefix).RequireConveyorTenant().WithTags("Conveyor Jobs API");

        // Conveyor's own endpoints, in a group of their own, refuse a query parameter they do not read (a 400 naming
        // it), so every one can answer 400; an application's endpoints mapped on the group returned are left alone.
        var api = group.MapGroup(string.Empty);
        api.AddEndpointFilter<RouteGroupBuilder, QueryParametersEndpointFilter>().ProducesValidationProblem();

        // Their waits for the store are bounded (a 503 past Conveyor:Api:StoreTimeout); an application's endpoints keep theirs.
        api.AddEndpointFilter<RouteGroupBuilder, StoreTimeoutEndpointFilter>();

        api.AnswerHeadAsGet();
        JobsEndpoints.Map(api);
        QueuesEndpoints.Map(api);
        ServersEndpoints.Map(api);
        CallerEndpoint.Map(api);
        Conveyor.AspNetCore.StatsApi.StatsEndpoints.Map(api);

        // The throughput ring listens from now on, not from the first request that reads it.
        _ = endpoints.ServiceProvider.GetRequiredService<Conveyor.AspNetCore.StatsApi.ThroughputRecorder>();
        SchedulesEndpoints.Map(api);
        Conveyor.AspNetCore.LimitsApi.LimitsEndpoints.Map(api);
        Conveyor.AspNetCore.WorkflowsApi.WorkflowsEndpoints.Map(api);
        return group;
    }

    /// <summary>
    /// Maps <c>GET /healthz</c> (liveness: the process answers, and the health checks tagged <c>live</c> pass) and
    /// <c>GET /readyz</c> (readiness: the checks tagged <c>ready</c> pass: Conveyor's store, server heartbeat and queue
    /// latency checks, and the application's own), both on ASP.NET Core's health checks
    /// (<c>services.AddHealthChecks().AddConveyor()</c>, which <c>AddApi()</c> calls), and <c>HEAD</c> of both.
    /// </summary>
    public static RouteGroupBuilder MapConveyorHealth(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>() is null
            || endpoints.ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<ConveyorHealthOptions>>() is null)
        {
            throw new InvalidOperationException("Conveyor's health checks are not registered: call services.AddHealthChecks().AddConveyor() (AddConveyor()...AddApi() does) first.");
        }

        var group = endpoints.MapGroup(prefix).WithTags("Conveyor health");
        group.MapGet("/healthz", HealthEndpoints.HealthAsync).WithName("Health").WithSummary("The process answers")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/readyz", HealthEndpoints.ReadyAsync).WithName("Ready").WithSummary("The job store answers and the readiness checks pass")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        // Load balancers that probe with HEAD get the same status.
        group.AnswerHeadAsGet();
        // Its endpoints only read today; a state-changing one added later is protected as the API's are.
        group.AddEndpointFilter<RouteGroupBuilder, CrossOriginEndpointFilter>();
        return group;
    }

    /// <summary>
    /// Maps the Prometheus text exposition of the "Conveyor" meter and the queue sizes at <paramref name="pattern"/>.
    /// It needs no API key (scrapers rarely send one) and shows no job data, only counts by type and queue.
    /// </summary>
    public static IEndpointConventionBuilder MapConveyorMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ThrowIfNotRegistered(endpoints);
        // Created now so that it listens from the first job on, not from the first scrape.
        var exporter = endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        return endpoints.MapGet(pattern, async (CancellationToken cancellationToken) =>
                TypedResults.Text(await exporter.RenderAsync(cancellationToken).ConfigureAwait(false), PrometheusText.ContentType))
            .WithName("Metrics").WithSummary("Prometheus metrics").WithTags("Conveyor metrics")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .AnswerHeadAsGet();
    }

    /// <summary>
    /// Maps the operator dashboard at <paramref name="pattern"/> (the page) and its files under it: overview (totals,
    /// throughput, queues, servers), jobs (filters, paging, bulk actions), job detail and schedules. It calls the Jobs
    /// API mapped at <paramref name="apiPrefix"/> with the API key the user types in, so it sees what that key sees;
    /// <see cref="ConveyorDashboardOptions.ReadOnly"/> (<c>Conveyor:Dashboard:ReadOnly</c>) hides every action.
    /// </summary>
    public static IEndpointConventionBuilder MapConveyorDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/dashboard", string apiPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(apiPrefix);
        var options = endpoints.ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<ConveyorDashboardOptions>>()?.Value ?? new ConveyorDashboardOptions();
        var maxPageSize = endpoints.ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<ConveyorApiOptions>>()?.Value.MaxPageSize ?? ConveyorApiOptions.DefaultMaxPageSize;
        // Without a key typed in, the page asks the API nothing when the API needs one (the answer could only be a 401).
        var keysRequired = endpoints.ServiceProvider.GetService<ApiKeyTenantResolver>()?.KeysRequired ?? false;
        var dashboard = new DashboardEndpoints(DashboardAssets.Load(), options, maxPageSize, keysRequired, pattern, apiPrefix);
        var group = endpoints.MapGroup(pattern).ExcludeFromDescription();
        group.MapGet("", dashboard.Page).WithName("Dashboard");
        group.MapGet("{file}", dashboard.File).WithName("DashboardFile");
        group.AnswerHeadAsGet();
        // Its endpoints only read today; a state-changing one added later is protected as the API's are.
        group.AddEndpointFilter<RouteGroupBuilder, CrossOriginEndpointFilter>();
        return group;
    }

    /// <summary>
    /// Makes endpoints of the application's own resolve the Conveyor caller from the API key (401 without one), apply
    /// the tenant's rate limit, answer 503 when the store is down and mark every answer <c>Cache-Control: no-store</c>
    /// and <c>X-Content-Type-Options: nosniff</c> (it carries one tenant's data); read the tenant with
    /// <c>HttpContext.GetConveyorCaller()</c>. A request that changes something, sent by a browser for a page of another
    /// origin, is a 403 before any of that.
    /// </summary>
    public static TBuilder RequireConveyorTenant<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // First, so that every answer carries it: a 401 or a 429 of the filters after it too.
        builder.AddEndpointFilter<TBuilder, NoStoreEndpointFilter>();
        builder.AddEndpointFilter<TBuilder, CrossOriginEndpointFilter>();
        builder.AddEndpointFilter<TBuilder, TenantEndpointFilter>();
        builder.WithMetadata(new Conveyor.AspNetCore.OpenApi.ConveyorTenantMetadata());
        builder.ProducesProblem(StatusCodes.Status401Unauthorized);
        builder.ProducesProblem(StatusCodes.Status429TooManyRequests);
        builder.ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return builder;
    }

    private static void ThrowIfNotRegistered(IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetService<ApiKeyTenantResolver>() is null)
        {
            throw new InvalidOperationException("Conveyor's API services are not registered: call services.AddConveyor()...AddApi() first.");
        }
    }
}
