using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Handlers;

public sealed class RegisteredJobTypesTests
{
    [Fact]
    public void RegisteredJobTypes_ListsTheJobTypeOfEveryAddedHandler()
    {
        var services = new ServiceCollection();
        services.AddSingleton<JobRecorder>();
        services.AddScoped<ScopedDependency>();
        services.AddConveyor().UseInMemoryStore().AddHandler<EchoHandler>().AddHandler<SlowHandler>();

        using var provider = services.BuildServiceProvider();
        var registered = provider.GetRequiredService<IRegisteredJobTypes>();

        Assert.Equal([EchoJob.JobType, SlowJob.JobType], registered.JobTypes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RegisteredJobTypes_IsEmpty_WhenNoHandlerIsAdded()
    {
        var services = new ServiceCollection();
        services.AddConveyor().UseInMemoryStore();

        using var provider = services.BuildServiceProvider();

        Assert.Empty(provider.GetRequiredService<IRegisteredJobTypes>().JobTypes);
    }
}
