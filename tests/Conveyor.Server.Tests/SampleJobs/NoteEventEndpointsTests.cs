using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conveyor.Server.Tests.SampleJobs;

/// <summary>The fan-out sample: its subscribers as a Redis Cluster can store them, and a publish its store refuses is a 500 that says why.</summary>
public sealed class NoteEventEndpointsTests
{
    [Fact]
    public void SampleSubscribers_OfNoteCreated_AreOnOneQueue_AsARedisClusterStoresAPublish()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddConveyor().UseInMemoryStore().AddSampleJobs(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();

        var jobs = provider.GetRequiredService<IEventPublisher>().CreateJobs(new NoteCreated(7));

        Assert.Equal(2, jobs.Count);
        Assert.Single(jobs.Select(static j => j.Queue).Distinct());
    }

    [Fact]
    public async Task Publish_TheStoreRefusesTheServersSubscribers_Is500SayingWhyAndWhatToChange()
    {
        var result = await NoteEventEndpoints.PublishAsync(7, TenantId.Default, new RefusingPublisher(), NullLogger.Instance, CancellationToken.None);

        var problem = Assert.IsType<ProblemHttpResult>(result.Result);
        Assert.Equal(StatusCodes.Status500InternalServerError, problem.StatusCode);
        Assert.Contains("subscribers", problem.ProblemDetails.Title, StringComparison.Ordinal);
        Assert.StartsWith("These jobs cannot be stored all or none on a Redis Cluster", problem.ProblemDetails.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    /// <summary>A publisher whose store refuses as a Redis Cluster refuses subscribers on queues of two slots.</summary>
    private sealed class RefusingPublisher : IEventPublisher
    {
        public Task<PublishResult> PublishAsync<TEvent>(TEvent @event, PublishOptions? options = null, CancellationToken cancellationToken = default)
            where TEvent : IEventPayload =>
            throw new ArgumentException(
                "These jobs cannot be stored all or none on a Redis Cluster: a script must stay in one slot, so every job of the list must be on queues of one slot " +
                "(here: 'default' (slot 5718), 'low' (slot 15214)) and carry no unique key and no id of the caller's choosing. Put an event's subscribers on one queue, " +
                "or use a single Redis node (docs/redis.md, \"Fan-out on a Cluster\").",
                "jobs");

        public IReadOnlyList<NewJob> CreateJobs<TEvent>(TEvent @event, PublishOptions? options = null)
            where TEvent : IEventPayload => throw new NotSupportedException();
    }
}
