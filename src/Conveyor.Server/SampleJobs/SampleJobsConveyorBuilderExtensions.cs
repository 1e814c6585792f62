using Conveyor.Server.SampleJobs;

namespace Microsoft.Extensions.DependencyInjection;

internal static class SampleJobsConveyorBuilderExtensions
{
    /// <summary>
    /// Registers the sample jobs (note:archive, note:cleanup-old, note:notify, note:publish, demo:sleep, report:generate, bulk:import, and
    /// orders:split, orders:count-region, orders:total of the fan-out/fan-in workflow in docs/async-jobs.md),
    /// the subscribers of note:created and their dependencies, the seed's schedule (note:cleanup-old every day at 03:00
    /// UTC), and fire-and-forget, which <c>POST /notes/{noteId}/archive</c> uses.
    /// </summary>
    public static IConveyorBuilder AddSampleJobs(this IConveyorBuilder builder, IConfiguration configuration)
    {
        builder.Services.AddSingleton<INoteRepository, InMemoryNoteRepository>();
        builder.Services.AddSingleton(new SampleDataDirectory(configuration));
        builder.Services.AddSingleton<ReportFiles>();
        builder.Services.AddSingleton<InventoryDatabase>();
        builder.Services.AddSingleton<NotificationOutbox>();
        return builder
            .AddHandler<NoteArchiveHandler>()
            .AddHandler<DemoSleepHandler>()
            .AddHandler<GenerateReportHandler>()
            .AddHandler<BulkImportHandler>()
            .AddHandler<SplitOrdersHandler>()
            .AddHandler<CountRegionHandler>()
            .AddHandler<TotalOrdersHandler>()
            .AddSubscriber<NoteCreated, IndexNote>(queue: "default", IndexNote.Options)
            // Both subscribers on one queue: a publish is stored all or none by one script, which on a Redis Cluster must
            // stay in one queue's slot (docs/redis.md, "Fan-out on a Cluster").
            .AddSubscriber<NoteCreated, NotifyFollowers>(queue: "default", NotifyFollowers.Options)
            .AddHandler<NotifyNoteSharedHandler>()
            .AddHandler<PublishNoteHandler>()
            .AddFireAndForget()
            .AddHandler<NoteCleanupHandler>()
            .AddSchedule(CleanupOldNotes.JobType, CleanupOldNotes.DailyAt3, new CleanupOldNotes(OlderThanDays: 30));
    }
}
