using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conveyor.Tests.Events;

public sealed class EventPublisherTests
{
    private static ServiceProvider Build(Action<IConveyorBuilder> configure, IJobStore? store = null, Action<ConveyorOptions>? options = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new EventLog());
        var conveyor = services.AddConveyor(options);
        if (store is null)
        {
            conveyor.UseInMemoryStore();
        }
        else
        {
            services.AddSingleton(store);
        }

        configure(conveyor);
        return services.BuildServiceProvider();
    }

    private static IConveyorBuilder TwoSubscribers(IConveyorBuilder conveyor) => conveyor
        .AddSubscriber<NoteCreated, IndexNote>(queue: "default", new SubscriberOptions { MaxRetry = 5, Timeout = TimeSpan.FromSeconds(30) })
        .AddSubscriber<NoteCreated, NotifyFollowersSubscriber>(queue: "low", new SubscriberOptions { MaxRetry = 0 });

    [Fact]
    public async Task Publish_StoresOneJobPerSubscriber_EachOnItsQueueWithItsOptions()
    {
        await using var provider = Build(c => TwoSubscribers(c));
        var events = provider.GetRequiredService<IEventPublisher>();
        var store = provider.GetRequiredService<IJobStore>();

        var result = await events.PublishAsync(new NoteCreated(42));

        Assert.False(result.IsDuplicate);
        Assert.Equal("note:created", result.EventType);
        Assert.Equal(["index-note", "notify-followers"], result.Jobs.Select(j => j.Subscriber));
        Assert.Equal(["note:created.index-note", "note:created.notify-followers"], result.Jobs.Select(j => j.JobType));
        var index = await store.GetAsync(TenantId.Default, result.JobIdOf("index-note")!, CancellationToken.None);
        var notify = await store.GetAsync(TenantId.Default, result.JobIdOf("notify-followers")!, CancellationToken.None);
        Assert.Equal(("default", 5, TimeSpan.FromSeconds(30)), (index!.Queue, index.MaxRetry, index.Timeout!.Value));
        Assert.Equal(("low", 0, (TimeSpan?)null), (notify!.Queue, notify.MaxRetry, notify.Timeout));
        Assert.Equal("""{"note_id":42}""", System.Text.Encoding.UTF8.GetString(index.Payload.Span));
    }

    [Fact]
    public async Task Publish_EachSubscriberRunsAsItsOwnJob_OneFailingLeavesTheOtherAlone()
    {
        await using var harness = await ServerHarness.StartAsync(
            configureConveyor: c => c
                .AddSubscriber<NoteCreated, IndexNote>()
                .AddSubscriber<NoteCreated, FailingSubscriber>(queue: "low", new SubscriberOptions { MaxRetry = 1 }),
            configureServices: s => s.AddSingleton(new EventLog()));
        var events = harness.Services.GetRequiredService<IEventPublisher>();

        var result = await events.PublishAsync(new NoteCreated(7));

        await harness.WaitForStateAsync(result.JobIdOf("index-note")!, JobState.Succeeded);
        var failed = await harness.WaitForStateAsync(result.JobIdOf("failing")!, JobState.Failed);
        Assert.Equal(2, failed.Attempts);
        Assert.Equal([7L], harness.Services.GetRequiredService<EventLog>().Indexed);
    }

    [Fact]
    public async Task Publish_SameUniqueKeyTwice_SecondIsADuplicateAndStoresNothing()
    {
        await using var provider = Build(c => TwoSubscribers(c));
        var events = provider.GetRequiredService<IEventPublisher>();
        var options = new PublishOptions { UniqueKey = "note-42-created", UniqueFor = TimeSpan.FromHours(1) };
        var first = await events.PublishAsync(new NoteCreated(42), options);

        var second = await events.PublishAsync(new NoteCreated(42), options);

        Assert.True(second.IsDuplicate);
        Assert.Empty(second.Jobs);
        Assert.Equal(first.Jobs[0].JobId, second.Duplicate!.JobId);
        var page = await provider.GetRequiredService<IJobStore>().ListAsync(new JobQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Equal(2, page.Jobs.Count);
    }

    [Fact]
    public async Task Publish_StoreUnavailable_ThrowsJobStoreUnavailableAndStoresNothing()
    {
        var inner = new InMemoryJobStore(TimeProvider.System);
        var (store, control) = UnreliableStore.Wrap(inner);
        await using var provider = Build(c => TwoSubscribers(c), store);
        var events = provider.GetRequiredService<IEventPublisher>();
        control.Available = false;

        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => events.PublishAsync(new NoteCreated(1)));

        var page = await inner.ListAsync(new JobQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Empty(page.Jobs);
    }

    [Fact]
    public async Task Publish_InvalidOptions_ThrowsAtTheCallBeforeAnyTask()
    {
        await using var provider = Build(c => TwoSubscribers(c));
        var events = provider.GetRequiredService<IEventPublisher>();

        var deadline = Assert.Throws<ArgumentException>(() => { _ = events.PublishAsync(new NoteCreated(1), new PublishOptions { Deadline = DateTimeOffset.UtcNow.AddDays(-1) }); });
        var key = Assert.Throws<ArgumentException>(() => { _ = events.PublishAsync(new NoteCreated(1), new PublishOptions { UniqueKey = "k" }); });
        var tenant = Assert.Throws<ArgumentException>(() => { _ = events.PublishAsync(new NoteCreated(1), new PublishOptions { Tenant = "no spaces" }); });
        Assert.Throws<ArgumentNullException>(() => { _ = events.PublishAsync<NoteCreated>(null!); });

        Assert.StartsWith("PublishJobOptions.Deadline", deadline.Message, StringComparison.Ordinal);
        Assert.Contains("UniqueFor", key.Message, StringComparison.Ordinal);
        Assert.Contains("Tenant", tenant.Message, StringComparison.Ordinal);
        var page = await provider.GetRequiredService<IJobStore>().ListAsync(new JobQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Empty(page.Jobs);
    }

    [Fact]
    public async Task Publish_PayloadOverTheLimit_ThrowsAtTheCall()
    {
        await using var provider = Build(c => TwoSubscribers(c), options: o => o.MaxPayloadBytes = 16);
        var events = provider.GetRequiredService<IEventPublisher>();

        var thrown = Assert.Throws<ArgumentException>(() => { _ = events.PublishAsync(new NoteCreated(123456789012345)); });

        Assert.Contains("Conveyor:MaxPayloadBytes", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_NoSubscriber_ThrowsByDefault()
    {
        await using var provider = Build(c => c.AddSubscriber<NoteCreated, IndexNote>());
        var events = provider.GetRequiredService<IEventPublisher>();

        var thrown = Assert.Throws<InvalidOperationException>(() => { _ = events.PublishAsync(new NoteArchived(1)); });

        Assert.Contains("'note:archived' has no subscriber", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:Events:NoSubscribers", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_NoSubscriberWithLog_StoresNothingAndReturnsNoJobs()
    {
        await using var provider = Build(_ => { }, options: o => o.Events.NoSubscribers = NoSubscribersAction.Log);
        var events = provider.GetRequiredService<IEventPublisher>();

        var result = await events.PublishAsync(new NoteArchived(1));

        Assert.Empty(result.Jobs);
        Assert.False(result.IsDuplicate);
        var page = await provider.GetRequiredService<IJobStore>().ListAsync(new JobQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Empty(page.Jobs);
    }

    [Fact]
    public async Task CreateJobs_BuildsTheJobsAPublishWouldStore_WithoutStoringThem()
    {
        await using var provider = Build(c => TwoSubscribers(c));
        var events = provider.GetRequiredService<IEventPublisher>();

        var jobs = events.CreateJobs(new NoteCreated(3), new PublishOptions { Tenant = "acme" });

        Assert.Equal(["note:created.index-note", "note:created.notify-followers"], jobs.Select(j => j.Type));
        Assert.All(jobs, j => Assert.Equal("acme", j.Tenant));
        var page = await provider.GetRequiredService<IJobStore>().ListAsync(new JobQuery { Tenant = "acme" }, CancellationToken.None);
        Assert.Empty(page.Jobs);
    }

    [Fact]
    public async Task NoSubscribersSetting_Invalid_StopsTheHostAtStartNamingTheSetting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Events:NoSubscribers"] = "Sometimes" });
        builder.Services.AddConveyor().UseInMemoryStore();
        using var host = builder.Build();

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("Conveyor:Events:NoSubscribers", thrown.ToString(), StringComparison.Ordinal);
    }
}
