using Conveyor.AspNetCore.JobsApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Tests;

public sealed class JobTypeCatalogTests
{
    [Fact]
    public void Unknown_OnAnApiThatRunsNoJobType_SaysSo_AndNamesTheSettingThatAcceptsOthers()
    {
        // An api-role server in front of other processes' workers, before their types are listed.
        using var services = new ServiceCollection().BuildServiceProvider();
        var catalog = new JobTypeCatalog(services, Options.Create(new ConveyorApiOptions()));

        var reason = catalog.Unknown("billing:charge");

        Assert.Equal(
            "no handler runs 'billing:charge'; this server runs no job type. A type whose handler runs in other processes is accepted once listed in Conveyor:Api:JobTypes.",
            reason);
    }
}
