using Conveyor.Client;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.Client;

/// <summary>A process without a job server opens its store at the host's start (ClientStoreOpener).</summary>
public sealed class ClientStoreOpenerTests
{
    private static (IHost Host, UnreliableStore Control, CapturingLoggerProvider Logs) Build(bool asApi)
    {
        var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore());
        var logs = new CapturingLoggerProvider();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(logs);
        builder.Services.AddConveyor();
        builder.Services.AddSingleton(store);
        if (asApi)
        {
            builder.Services.AddSingleton<StopWhenStoreCannotBeOpened>();
        }

        return (builder.Build(), control, logs);
    }

    [Fact]
    public async Task AHostThatOnlyEnqueues_OpensTheStoreAtStart()
    {
        var (host, control, _) = Build(asApi: false);
        using (host)
        {
            await host.StartAsync();

            await Eventually.HoldsAsync(() => control.Initializations == 1, because: "the store to be opened at the host's start");
            await host.StopAsync();
        }
    }

    /// <summary>
    /// A store that cannot be opened for good (a wrong password) stops the Jobs API, whose purpose it is, but an
    /// application that only enqueues among other work (a web site) goes on, the failure logged.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStoreThatCannotBeOpened_StopsOnlyAnApi(bool asApi)
    {
        var (host, control, logs) = Build(asApi);
        control.Available = false;
        control.Failure = static () => new InvalidDataException("the password is wrong");
        using (host)
        {
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            await host.StartAsync();

            await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.EventId.Id == (asApi ? 1007 : 127)), because: "the failure to be logged");
            Assert.Contains("the password is wrong", logs.Entries.Single(e => e.EventId.Id == (asApi ? 1007 : 127)).Message, StringComparison.Ordinal);
            Assert.Equal(asApi, lifetime.ApplicationStopping.IsCancellationRequested);
            await host.StopAsync();
        }

        Environment.ExitCode = 0;
    }
}
