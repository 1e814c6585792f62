using Conveyor;
using Conveyor.Client.FireAndForget;
using Conveyor.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="IFireAndForget"/>: <c>services.AddConveyor().UseSqlite().AddFireAndForget();</c></summary>
public static class FireAndForgetConveyorBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="IFireAndForget"/> and the background pump that stores its calls (a hosted service: the
    /// application must run as a host, as web apps and worker services do). Settings bind from
    /// <c>Conveyor:FireAndForget</c> and are validated at start. Calling it again only applies <paramref name="configure"/>.
    /// </summary>
    public static IConveyorBuilder AddFireAndForget(this IConveyorBuilder builder, Action<FireAndForgetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<FireAndForgetOptions>();
        if (!services.Any(static d => d.ServiceType == typeof(FireAndForgetPump)))
        {
            options.BindFromConfigurationIfPresent(FireAndForgetOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true)).ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FireAndForgetOptions>, FireAndForgetOptionsAttributesValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FireAndForgetOptions>, FireAndForgetOptionsValidator>());
            services.TryAddSingleton<FireAndForgetDrops>();
            services.TryAddSingleton<FireAndForgetBuffer>();
            services.TryAddSingleton<IFireAndForget, FireAndForgetClient>();
            services.TryAddSingleton<FireAndForgetPump>();
            services.AddHostedService(static sp => sp.GetRequiredService<FireAndForgetPump>());
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }
}
