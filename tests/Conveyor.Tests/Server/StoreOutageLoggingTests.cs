using System.Diagnostics.Metrics;
using System.Reflection;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A store restart is an outage the background components ride out: one warning when it begins, one information line
/// when the store answers again, and no error at every tick in between.
/// </summary>
public sealed class StoreOutageLoggingTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger _logger = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    public static TheoryData<string> Components => new("Recoverer", "Promoter");

    private PeriodicComponent Create(string name, UnreliableStoreHandle store) => name switch
    {
        "Recoverer" => new Recoverer(store.Store, new JobReadySignal(), new ConveyorMetrics(_services.GetRequiredService<IMeterFactory>()),
            TimeSpan.FromSeconds(1), _time, _logger),
        _ => new Promoter(store.Store, new JobReadySignal(), TimeSpan.FromSeconds(1), _time, _logger),
    };

    [Theory]
    [MemberData(nameof(Components))]
    public async Task StoreUnavailable_ForManyTicks_IsOneWarningAndNoError(string name)
    {
        var store = UnreliableStoreHandle.Create(_time);
        var component = Create(name, store);
        store.Control.Available = false;

        for (var i = 0; i < 5; i++)
        {
            await component.TickAsync(CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(5, store.Control.FailedCalls);
        var record = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains(name, record.Message, StringComparison.Ordinal);
        Assert.IsType<JobStoreUnavailableException>(record.Exception);
    }

    [Theory]
    [MemberData(nameof(Components))]
    public async Task StoreBack_IsOneInformationLineWithTheOutagesLength_AndANewOutageWarnsAgain(string name)
    {
        var store = UnreliableStoreHandle.Create(_time);
        var component = Create(name, store);
        store.Control.Available = false;
        await component.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        await component.TickAsync(CancellationToken.None);
        store.Control.Available = true;

        await component.TickAsync(CancellationToken.None);
        await component.TickAsync(CancellationToken.None);

        var records = _logger.Collector.GetSnapshot();
        Assert.Equal([LogLevel.Warning, LogLevel.Information], records.Select(static r => r.Level));
        Assert.Contains("3.0 s", records[1].Message, StringComparison.Ordinal);

        store.Control.Available = false;
        await component.TickAsync(CancellationToken.None);

        Assert.Equal(LogLevel.Warning, _logger.LatestRecord.Level);
        Assert.Equal(3, _logger.Collector.Count);
    }

    [Fact]
    public async Task AnyOtherFailure_IsStillAnErrorEveryTick()
    {
        var component = new Promoter(BrokenStore.Create(), new JobReadySignal(), TimeSpan.FromSeconds(1), _time, _logger);

        await component.TickAsync(CancellationToken.None);
        await component.TickAsync(CancellationToken.None);

        Assert.Equal([LogLevel.Error, LogLevel.Error], _logger.Collector.GetSnapshot().Select(static r => r.Level));
    }

    /// <summary>An in-memory store behind the switch of <see cref="UnreliableStore"/>.</summary>
    private sealed record UnreliableStoreHandle(IJobStore Store, UnreliableStore Control)
    {
        public static UnreliableStoreHandle Create(TimeProvider time)
        {
            var (store, control) = UnreliableStore.Wrap(new InMemoryJobStore(time));
            return new UnreliableStoreHandle(store, control);
        }
    }

    /// <summary>A store whose every call fails with a bug, not an outage.</summary>
    public class BrokenStore : DispatchProxy
    {
        public static IJobStore Create() => Create<IJobStore, BrokenStore>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException("a bug in the store");
    }
}
