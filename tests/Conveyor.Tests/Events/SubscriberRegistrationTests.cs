using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Events;

public sealed class SubscriberRegistrationTests
{
    private static IConveyorBuilder NewBuilder() => new ServiceCollection().AddConveyor().UseInMemoryStore();

    [Fact]
    public void AddSubscriber_SameSubscriberTwiceForOneEvent_IsRefusedNamingIt()
    {
        var builder = NewBuilder().AddSubscriber<NoteCreated, IndexNote>();

        var thrown = Assert.Throws<InvalidOperationException>(() => builder.AddSubscriber<NoteCreated, IndexNote>(queue: "low"));

        Assert.Contains("IndexNote is registered twice as a subscriber of event 'note:created'", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSubscriber_TwoSubscribersWithOneName_IsRefusedNamingBoth()
    {
        var builder = NewBuilder().AddSubscriber<NoteCreated, IndexNote>();

        var thrown = Assert.Throws<InvalidOperationException>(
            () => builder.AddSubscriber<NoteCreated, NotifyFollowersSubscriber>(options: new SubscriberOptions { Name = "index-note" }));

        Assert.Contains("IndexNote and NotifyFollowersSubscriber are both subscribers of event 'note:created' named 'index-note'", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSubscriber_OneSubscriberClassForTwoEvents_IsAccepted()
    {
        var services = new ServiceCollection();
        services.AddConveyor().UseInMemoryStore()
            .AddSubscriber<NoteCreated, AuditEverything>()
            .AddSubscriber<NoteArchived, AuditEverything>();

        using var provider = services.BuildServiceProvider();
        var types = provider.GetRequiredService<IRegisteredJobTypes>().JobTypes;

        Assert.Contains("note:created.audit-everything", types);
        Assert.Contains("note:archived.audit-everything", types);
    }

    [Fact]
    public void AddSubscriber_InvalidQueueNameOrOptions_IsRefusedAtOnce_NamingTheSubscriber()
    {
        var builder = NewBuilder();

        var queue = Assert.Throws<ArgumentException>(() => builder.AddSubscriber<NoteCreated, IndexNote>(queue: "no spaces"));
        var retries = Assert.Throws<ArgumentException>(() => builder.AddSubscriber<NoteCreated, IndexNote>(options: new SubscriberOptions { MaxRetry = -1 }));
        var name = Assert.Throws<ArgumentException>(() => builder.AddSubscriber<NoteCreated, IndexNote>(options: new SubscriberOptions { Name = "Index Note" }));

        Assert.Contains("IndexNote of event 'note:created': 'no spaces' is not a queue name", queue.Message, StringComparison.Ordinal);
        // A queue no URL path can name and no server serves (QueueName.IsConfigurable).
        var dots = Assert.Throws<ArgumentException>(() => builder.AddSubscriber<NoteCreated, IndexNote>(queue: ".."));
        Assert.Contains("IndexNote of event 'note:created': '..' is not a queue name: use 1 to 64 letters, digits, '_', '-' or '.', not '.' or '..'.", dots.Message, StringComparison.Ordinal);
        Assert.Contains("IndexNote of event 'note:created': SubscriberJobOptions.MaxRetry", retries.Message, StringComparison.Ordinal);
        Assert.Contains("IndexNote of event 'note:created': Subscriber name 'Index Note' is not valid", name.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(IndexNote), "index-note")]
    [InlineData(typeof(NotifyFollowersSubscriber), "notify-followers")]
    [InlineData(typeof(AuditEverything), "audit-everything")]
    [InlineData(typeof(SendHTMLEmailHandler), "send-html-email")]
    public void DefaultName_IsTheClassNameInKebabCaseWithoutSuffix(Type subscriber, string expected) =>
        Assert.Equal(expected, EventJobType.DefaultName(subscriber));

    [Fact]
    public void For_IsTheEventTypeADotAndTheName_AndAValidJobType()
    {
        var jobType = EventJobType.For("note:created", "index-note");

        Assert.Equal("note:created.index-note", jobType);
        Assert.True(JobType.IsValid(jobType));
        Assert.Throws<ArgumentException>(() => EventJobType.For("note:created", new string('a', 50) + "x"));
        Assert.Throws<ArgumentException>(() => EventJobType.For("NoteCreated", "index-note"));
    }
}
