using Conveyor;
using Conveyor.Testing;
using Microsoft.Extensions.DependencyInjection;
using Notes.Adapters.Jobs;
using Notes.Domain;
using Notes.UseCases;
using Notes.UseCases.Ports;

namespace Notes.Tests;

/// <summary>
/// From the API's use case to the worker's handler: the request enqueues through the <see cref="INoteJobs"/> port,
/// the job runs through Conveyor's real pipeline (the worker's registration, <see cref="NoteJobsConveyorBuilderExtensions.AddNoteJobs"/>)
/// on the in-memory store, on a fake clock.
/// </summary>
public sealed class NoteArchiveFlowTests
{
    private readonly InMemoryNoteRepository _notes = new();

    private ConveyorTestHost CreateHost(ConveyorTestMode mode = ConveyorTestMode.Manual) => ConveyorTestHost.Create(
        conveyor => conveyor.AddNoteJobs(),
        mode,
        services => services
            .AddSingleton<INoteRepository>(_notes)
            .AddSingleton<INoteJobs, ConveyorNoteJobs>()
            .AddTransient<RequestNoteArchiveUseCase>()
            .AddTransient<ArchiveNoteUseCase>());

    [Fact]
    public async Task AnArchiveRequest_EnqueuesTheJob_AndTheWorkerArchivesTheNote()
    {
        await using var host = CreateHost();
        var note = await _notes.AddAsync("groceries", CancellationToken.None);

        var (outcome, jobId) = await host.Services.GetRequiredService<RequestNoteArchiveUseCase>().ExecuteAsync(note.Id, CancellationToken.None);

        Assert.Equal(ArchiveRequestOutcome.Queued, outcome);
        Assert.Equal(jobId, host.AssertEnqueued<ArchiveNote>(job => job.NoteId == note.Id, queue: "default").Id);
        Assert.False(note.IsArchived);

        var ran = await host.DrainAsync();

        Assert.Equal(1, ran.Succeeded);
        Assert.Equal(host.Time.GetUtcNow(), note.ArchivedAt);
        host.AssertNothingEnqueued();
    }

    [Fact]
    public async Task ADatabaseOutage_IsRetriedAfterTheBackoff_AndTheNoteIsArchivedOnce()
    {
        await using var host = CreateHost();
        var note = await _notes.AddAsync("groceries", CancellationToken.None);
        await host.Services.GetRequiredService<RequestNoteArchiveUseCase>().ExecuteAsync(note.Id, CancellationToken.None);
        _notes.FailuresLeft = 1;

        var first = await host.DrainAsync();
        Assert.Equal((1, 0), (first.Retried, first.Succeeded));
        Assert.False(note.IsArchived);

        host.Time.Advance(TimeSpan.FromMinutes(10));
        var second = await host.DrainAsync();

        Assert.Equal(1, second.Succeeded);
        Assert.True(note.IsArchived);
        Assert.Equal(JobState.Succeeded, Assert.Single(host.Jobs).State);
    }

    [Fact]
    public async Task InlineMode_TheNoteIsArchivedWhenTheRequestReturns()
    {
        await using var host = CreateHost(ConveyorTestMode.Inline);
        var note = await _notes.AddAsync("groceries", CancellationToken.None);

        await host.Services.GetRequiredService<RequestNoteArchiveUseCase>().ExecuteAsync(note.Id, CancellationToken.None);

        Assert.True(note.IsArchived);
    }
}
