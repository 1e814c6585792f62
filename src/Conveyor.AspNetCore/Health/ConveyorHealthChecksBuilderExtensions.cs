using Conveyor.AspNetCore;
using Conveyor.AspNetCore.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Conveyor's checks on ASP.NET Core's health-check system: <c>services.AddHealthChecks().AddConveyor();</c></summary>
public static class ConveyorHealthChecksBuilderExtensions
{
    /// <summary>
    /// Registers Conveyor's health checks, each tagged <c>ready</c> (what <c>/readyz</c> runs) and <c>conveyor</c>:
    /// <c>conveyor_store</c> (the store answers within <see cref="ConveyorHealthOptions.StoreTimeout"/>, Unhealthy
    /// otherwise), <c>conveyor_server</c> (this process's worker server runs and its heartbeat is recent; Healthy in a
    /// process without workers) and <c>conveyor_queue_latency</c> (Degraded when a queue's latency passes its threshold).
    /// Settings bind from <c>Conveyor:Health</c>, then <paramref name="configure"/> runs. <c>AddApi()</c> calls this
    /// already; calling it again only adds <paramref name="configure"/>. Your own checks tagged <c>ready</c> or
    /// <c>live</c> join <c>/readyz</c> or <c>/healthz</c>.
    /// </summary>
    public static IHealthChecksBuilder AddConveyor(this IHealthChecksBuilder builder, Action<ConveyorHealthOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<ConveyorHealthOptions>();
        if (!services.Any(d => d.ServiceType == typeof(ConveyorHealthChecksRegistered)))
        {
            services.AddSingleton<ConveyorHealthChecksRegistered>();
            options.BindFromConfigurationIfPresent(ConveyorHealthOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true)).ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConveyorHealthOptions>, ConveyorHealthOptionsValidator>());
            string[] tags = [ConveyorHealthOptions.ReadyTag, "conveyor"];
            builder.AddCheck<StoreHealthCheck>(StoreHealthCheck.Name, tags: tags);
            builder.AddCheck<ServerHeartbeatHealthCheck>(ServerHeartbeatHealthCheck.Name, tags: tags);
            builder.AddCheck<QueueLatencyHealthCheck>(QueueLatencyHealthCheck.Name, tags: tags);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }

    /// <summary>Marks the checks as registered, so that a second call adds no duplicate names.</summary>
    private sealed class ConveyorHealthChecksRegistered;
}
