using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Testing.Tests;

public sealed class ConveyorTestHostTests
{
    private static ConveyorTestHost Create(Journal journal, ConveyorTestMode mode = ConveyorTestMode.Manual) =>
        ConveyorTestHost.Create(
            conveyor => conveyor
                .AddHandler<ArchiveNoteHandler>()
                .AddHandler<NotifyOwnerHandler>()
                .AddHandler<ImportRowsHandler>()
                .AddSubscriber<NoteCreated, IndexNote>(),
            mode,
            services => services.AddSingleton(journal));

    [Fact]
    public async Task Manual_EnqueuedJobsWaitUntilDrained_ThenRunThroughThePipelineWithTheirDependencies()
    {
        var journal = new Journal();
        await using var host = Create(journal);

        await host.Client.EnqueueAsync(new ArchiveNote(42));

        Assert.Equal("note:archive", host.AssertEnqueued<ArchiveNote>(n => n.NoteId == 42).Type);
        Assert.Empty(journal.Entries);

        var ran = await host.DrainAsync();

        // The handler's follow-up job ran in the same drain.
        Assert.Equal(2, ran.Succeeded);
        Assert.Equal(["archived 42 (attempt 1)", "notified 42"], journal.Entries);
        Assert.All(host.Jobs, j => Assert.Equal(JobState.Succeeded, j.State));
        host.AssertNothingEnqueued();
    }

    [Fact]
    public async Task AssertEnqueued_NoMatch_FailsListingWhatTheStoreHolds()
    {
        await using var host = Create(new Journal());
        await host.Client.EnqueueAsync(new ArchiveNote(1));

        var failure = Assert.Throws<ConveyorAssertionException>(() => host.AssertEnqueued<ArchiveNote>(n => n.NoteId == 2));
        Assert.Contains("note:archive", failure.Message, StringComparison.Ordinal);
        Assert.Contains("""{"note_id":1}""", failure.Message, StringComparison.Ordinal);
        Assert.Throws<ConveyorAssertionException>(() => host.AssertEnqueued<ArchiveNote>(queue: "low"));
        Assert.Throws<ConveyorAssertionException>(() => host.AssertNothingEnqueued("note:archive"));
        host.AssertNothingEnqueued("note:notify-owner");
    }

    [Fact]
    public async Task AFailedAttempt_IsRetriedOnlyWhenTheClockPassesItsBackoff()
    {
        var journal = new Journal { FailuresLeft = 1 };
        await using var host = Create(journal);
        await host.Client.EnqueueAsync(new ArchiveNote(5));

        var first = await host.DrainAsync();
        Assert.Equal((1, 0), (first.Retried, first.Succeeded));
        var retrying = host.AssertEnqueued<ArchiveNote>();
        Assert.Equal(JobState.Retrying, retrying.State);
        Assert.Equal("the archive is down", Assert.Single(retrying.Errors).Message);
        Assert.Equal(0, (await host.DrainAsync()).Attempts);

        host.Time.Advance(TimeSpan.FromHours(1));
        var second = await host.DrainAsync();

        Assert.Equal(2, second.Succeeded);
        Assert.Equal(["archived 5 (attempt 2)", "notified 5"], journal.Entries);
    }

    [Fact]
    public async Task AScheduledJob_RunsOnlyOnceTheClockReachesIt()
    {
        var journal = new Journal();
        await using var host = Create(journal);
        await host.Client.EnqueueAsync(new NotifyOwner(9), new JobOptions { ProcessIn = TimeSpan.FromMinutes(30) });

        Assert.Equal(JobState.Scheduled, host.AssertEnqueued<NotifyOwner>().State);
        Assert.Equal(0, (await host.DrainAsync()).Attempts);

        host.Time.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal(1, (await host.DrainAsync()).Succeeded);
        Assert.Equal(["notified 9"], journal.Entries);
    }

    [Fact]
    public async Task Drain_KeepsTheHandlersResultsAndItemErrorsOnTheJob()
    {
        await using var host = Create(new Journal());
        var enqueued = await host.Client.EnqueueAsync(new ImportRows(["x", ""]));

        await host.DrainAsync();

        var job = Assert.Single(host.Jobs);
        Assert.Equal(enqueued.JobId, job.Id);
        Assert.Equal(JobState.Partial, job.State);
        Assert.Equal(100, job.Progress);
        Assert.Equal("/imports/1.csv", job.ResultUrl);
    }

    [Fact]
    public async Task Inline_AnEnqueueReturnsOnceTheJobAndItsFollowUpsRan()
    {
        var journal = new Journal();
        await using var host = Create(journal, ConveyorTestMode.Inline);

        await host.Client.EnqueueAsync(new ArchiveNote(3));

        Assert.Equal(["archived 3 (attempt 1)", "notified 3"], journal.Entries);
        host.AssertNothingEnqueued();
    }

    [Fact]
    public async Task Inline_APublishReturnsOnceTheSubscribersRan()
    {
        var journal = new Journal();
        await using var host = Create(journal, ConveyorTestMode.Inline);

        var published = await host.Events.PublishAsync(new NoteCreated(11));

        Assert.Single(published.Jobs);
        Assert.Equal(["indexed 11"], journal.Entries);
    }

    [Fact]
    public async Task Drain_HandlersThatEnqueueEachOtherForever_StopWithAClearError()
    {
        await using var host = ConveyorTestHost.Create(conveyor => conveyor.AddHandler<ForeverHandler>());
        await host.Client.EnqueueAsync(new Forever(0));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.DrainAsync());

        Assert.Contains("without end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_TheApplicationsStoreChoiceIsReplacedByTheInMemoryStore()
    {
        await using var host = ConveyorTestHost.Create(
            conveyor =>
            {
                conveyor.Services.AddSingleton<Conveyor.Storage.IJobStore>(_ => throw new InvalidOperationException("the application's own store was used"));
                conveyor.AddHandler<NotifyOwnerHandler>();
            },
            services: s => s.AddSingleton(new Journal()));

        await host.Client.EnqueueAsync(new NotifyOwner(1));

        Assert.Equal(1, (await host.DrainAsync()).Succeeded);
    }
}
