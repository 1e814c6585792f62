using Conveyor.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conveyor.AspNetCore.Hosting;

/// <summary>For the bundled server's exit: why a process without workers stopped, its store not to be opened.</summary>
internal static class StoreOpenFailure
{
    /// <summary>The reason AddConveyor's opener stopped the application for; null when it did not.</summary>
    public static string? Reason(IServiceProvider services) =>
        services.GetServices<IHostedService>().OfType<ClientStoreOpener>().FirstOrDefault()?.StoppedBecause;
}
