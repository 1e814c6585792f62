using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Server.Tests.SampleJobs;

public sealed class NoteCleanupHandlerTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task CleanUp_DeletesOnlyNotesArchivedBeforeTheCutOff_CountedFromTheTick()
    {
        var time = new FakeTimeProvider(Start);
        var notes = new InMemoryNoteRepository(time);
        await notes.ArchiveAsync(1, CancellationToken.None);
        time.Advance(TimeSpan.FromDays(10));
        await notes.ArchiveAsync(2, CancellationToken.None);
        time.Advance(TimeSpan.FromDays(30));
        var sut = new NoteCleanupHandler(notes, time, NullLogger<NoteCleanupHandler>.Instance);

        // The tick is 31 days after note 1 was archived and 21 days after note 2: only note 1 is older than 30 days.
        var deleted = await sut.CleanUpAsync(new CleanupOldNotes(30), Start.AddDays(31), CancellationToken.None);

        Assert.Equal(1, deleted);
        Assert.False(await notes.IsArchivedAsync(1, CancellationToken.None));
        Assert.True(await notes.IsArchivedAsync(2, CancellationToken.None));
    }

    [Fact]
    public async Task CleanUp_DaysBelowOne_FailsWithoutRetry()
    {
        var time = new FakeTimeProvider(Start);
        var sut = new NoteCleanupHandler(new InMemoryNoteRepository(time), time, NullLogger<NoteCleanupHandler>.Instance);

        var error = await Assert.ThrowsAsync<SkipRetryException>(() => sut.CleanUpAsync(new CleanupOldNotes(0), Start, CancellationToken.None));

        Assert.Contains("older_than_days", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_RegistersTheDailyUtcSchedule_AndATriggeredRunSucceeds()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Configuration["Conveyor:Samples:DataDirectory"] = Path.Combine(Path.GetTempPath(), "conveyor-cleanup-" + Guid.NewGuid().ToString("N"));
        builder.Services.AddConveyor().UseInMemoryStore().AddSampleJobs(builder.Configuration).AddServer(o => o.Concurrency = 2);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var schedules = host.Services.GetRequiredService<IScheduleClient>();
            ScheduleRecord? schedule = null;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((schedule = await schedules.GetAsync(TenantId.Default, "note:cleanup-old")) is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.NotNull(schedule);
            Assert.Equal("0 3 * * *", schedule.Cron);
            Assert.Equal("UTC", schedule.TimeZone);
            Assert.Equal("note:cleanup-old", schedule.JobType);
            Assert.Equal(3, schedule.NextFireAt!.Value.Hour);

            var triggered = await schedules.TriggerAsync(TenantId.Default, "note:cleanup-old");
            var jobs = host.Services.GetRequiredService<IJobClient>();
            JobInfo? job = null;
            deadline = DateTime.UtcNow.AddSeconds(10);
            while ((job = await jobs.GetJobAsync(triggered!.JobId, TenantId.Default))?.State != JobState.Succeeded && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(JobState.Succeeded, job?.State);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
