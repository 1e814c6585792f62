using Conveyor.Server.SampleJobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.Server.Tests.SampleJobs;

/// <summary>The fire-and-forget sample names the queue its job goes to: the one Conveyor:FireAndForget:Queue sets.</summary>
public sealed class ArchiveNoteEndpointTests
{
    [Theory]
    [InlineData("low")]
    [InlineData("critical")]
    public async Task Archive_AnswersTheQueueTheJobGoesTo_TheFireAndForgetQueue(string queue)
    {
        var background = new RecordingFireAndForget();

        var result = await ArchiveNoteEndpoint.ArchiveAsync("42", "acme", background, new FireAndForgetOptions { Queue = queue }, CancellationToken.None);

        var accepted = Assert.IsType<Accepted<ArchiveNoteEndpoint.ArchiveRequested>>(result.Result);
        Assert.Equal((42L, queue), (accepted.Value!.NoteId, accepted.Value.Queue));
        // The job itself names no queue: the fire-and-forget client puts it on that one.
        var options = Assert.Single(background.Options);
        Assert.Equal(("acme", (string?)null), (options!.Tenant, options.Queue));
    }

    private sealed class RecordingFireAndForget : IFireAndForget
    {
        public List<JobOptions?> Options { get; } = [];

        public ValueTask EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
            where TPayload : IJobPayload
        {
            Options.Add(options);
            return ValueTask.CompletedTask;
        }

        public ValueTask EnqueueAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The sample enqueues a typed payload.");
    }
}
