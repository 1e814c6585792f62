using System.Text.Json.Serialization.Metadata;
using Conveyor.AspNetCore;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.AspNetCore.Metrics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the services of the HTTP Jobs API: <c>services.AddConveyor().UseSqlite().AddApi();</c></summary>
public static class ConveyorApiConveyorBuilderExtensions
{
    /// <summary>
    /// Registers what <c>MapConveyorApi</c>, <c>MapConveyorHealth</c> and <c>MapConveyorMetrics</c> need: API keys and
    /// tenants, the per-tenant rate limit, JSON contracts, problem details and the Prometheus exporter. Settings bind
    /// from <c>Conveyor:Api</c> (<see cref="ConveyorApiOptions"/>), then <paramref name="configure"/> runs; they are
    /// validated at start. Without API keys the server refuses to listen on anything but loopback addresses.
    /// </summary>
    public static IConveyorBuilder AddApi(this IConveyorBuilder builder, Action<ConveyorApiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<ConveyorApiOptions>().BindFromConfigurationIfPresent(ConveyorApiOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddOptions<ConveyorDashboardOptions>().BindFromConfigurationIfPresent(ConveyorDashboardOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConveyorApiOptions>, ConveyorApiOptionsValidator>());
        services.TryAddSingleton<ApiKeyTenantResolver>();
        services.TryAddSingleton<TenantRateLimiter>();
        services.TryAddSingleton<JobTypeCatalog>();
        services.TryAddSingleton<ServedQueues>();
        services.TryAddSingleton<EnqueueBatcher>();
        services.TryAddSingleton(sp => new Conveyor.AspNetCore.StatsApi.ThroughputRecorder(
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<Conveyor.Diagnostics.ConveyorMetrics>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton(sp => new PrometheusExporter(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<Conveyor.Diagnostics.ConveyorMetrics>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, LoopbackGuard>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, PayloadLimitCheck>());
        services.AddProblemDetails();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, Conveyor.AspNetCore.Hosting.ApiCountersAtZero>());
        // An API whose store cannot be opened stops, rather than answer 503 for a fault no retry fixes.
        services.TryAddSingleton<Conveyor.Client.StopWhenStoreCannotBeOpened>();
        // /healthz and /readyz run on ASP.NET Core's health checks; the application adds its own with AddHealthChecks().
        services.AddHealthChecks().AddConveyor();
        // Every OpenAPI document of the application (AddOpenApi) describes the Conveyor endpoints in full.
        services.ConfigureAll<Microsoft.AspNetCore.OpenApi.OpenApiOptions>(Conveyor.AspNetCore.OpenApi.ConveyorOpenApi.Configure);
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0,
            ConveyorApiJsonContext.Default.WithAddedModifier(JobErrorResponse.LeaveOutStackTraceInSummary)));
        return builder;
    }
}
