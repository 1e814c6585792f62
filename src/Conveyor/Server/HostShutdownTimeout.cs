using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor.Server;

/// <summary>
/// Raises the host's shutdown timeout (<c>HostOptions.ShutdownTimeout</c> of Microsoft.Extensions.Hosting) so that the
/// server's grace period and the return of its jobs fit in it. The core references only the hosting abstractions, so
/// that an application that only enqueues does not get the whole host; the options type is therefore found by name.
/// It is there in every process that runs the server, since hosted services need a host; where it is not, there is no
/// host timeout to raise.
/// </summary>
internal static class HostShutdownTimeout
{
    private const string HostOptionsTypeName = "Microsoft.Extensions.Hosting.HostOptions, Microsoft.Extensions.Hosting";

    /// <summary>What the host needs beyond the grace period: cancelled handlers return, jobs go back, the server record is removed.</summary>
    internal static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "IConfigureOptions<HostOptions> and ConfigureOptions<HostOptions> are instantiated over a reference type, whose shared code is always compiled.")]
    [UnconditionalSuppressMessage("Trimming", "IL2055", Justification = "The generic types have no annotated type parameters.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "ConfigureOptions<>'s constructor is kept by the DynamicDependency.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "HostOptions' properties are kept by the DynamicDependency.")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(ConfigureOptions<>))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, "Microsoft.Extensions.Hosting.HostOptions", "Microsoft.Extensions.Hosting")]
    public static void Register(IServiceCollection services)
    {
        var hostOptions = Type.GetType(HostOptionsTypeName, throwOnError: false);
        var shutdownTimeout = hostOptions?.GetProperty("ShutdownTimeout");
        if (hostOptions is null || shutdownTimeout is null || shutdownTimeout.PropertyType != typeof(TimeSpan))
        {
            return;
        }

        services.AddSingleton(typeof(IConfigureOptions<>).MakeGenericType(hostOptions), serviceProvider =>
        {
            var needed = serviceProvider.GetRequiredService<IOptions<JobServerOptions>>().Value.ShutdownTimeout + Margin;
            // Action<object> stands for Action<HostOptions> (delegates are contravariant in their argument).
            Action<object> raise = host =>
            {
                if ((TimeSpan)shutdownTimeout.GetValue(host)! < needed)
                {
                    shutdownTimeout.SetValue(host, needed);
                }
            };
            return Activator.CreateInstance(typeof(ConfigureOptions<>).MakeGenericType(hostOptions), raise)!;
        });
    }
}
