using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conveyor.Tests.Server;

/// <summary>
/// The core references only the hosting abstractions, yet the host's shutdown timeout must still make room for the
/// server's grace period: AddServer finds HostOptions by name and raises its timeout, never lowers it.
/// </summary>
public sealed class HostShutdownTimeoutTests
{
    [Theory]
    [InlineData(60, 70)]
    [InlineData(5, 30)]
    public void AddServer_RaisesTheHostsShutdownTimeoutToTheGracePeriodPlusMargin_NeverLowersIt(int graceSeconds, int expectedSeconds)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddConveyor().UseInMemoryStore().AddServer(o => o.ShutdownTimeout = TimeSpan.FromSeconds(graceSeconds));
        using var host = builder.Build();

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void TheCore_DependsOnTheHostingAbstractionsOnly()
    {
        var references = typeof(JobServer).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.Contains("Microsoft.Extensions.Hosting.Abstractions", references);
        Assert.DoesNotContain("Microsoft.Extensions.Hosting", references);
    }
}
