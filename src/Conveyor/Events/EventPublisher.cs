using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.Events;

/// <summary>
/// Builds one job per subscriber (validated by the client's own rules, before anything is written) and stores them
/// with one <see cref="IJobQueueStore.EnqueueAllOrNoneAsync"/>.
/// </summary>
internal sealed class EventPublisher(
    IJobStore store,
    IJobClient client,
    JobPayloadSerializer serializer,
    EventSubscriberRegistry registry,
    IOptions<ConveyorOptions> options,
    ConveyorMetrics metrics,
    JobReadySignal readySignal,
    ILogger<EventPublisher> logger) : IEventPublisher
{
    /// <summary>Longest <see cref="PublishOptions.UniqueKey"/>: room is left for the job type in each job's own key.</summary>
    public const int MaxUniqueKeyLength = 150;

    public Task<PublishResult> PublishAsync<TEvent>(TEvent @event, PublishOptions? options = null, CancellationToken cancellationToken = default)
        where TEvent : IEventPayload
    {
        // Everything that can be wrong with the call throws here, at the caller, before the first await.
        var (subscriptions, jobs) = Build(@event, options);
        if (jobs.Count == 0)
        {
            return Task.FromResult(new PublishResult { EventType = TEvent.EventType, Jobs = [] });
        }

        return StoreAsync(TEvent.EventType, subscriptions, jobs, cancellationToken);
    }

    public IReadOnlyList<NewJob> CreateJobs<TEvent>(TEvent @event, PublishOptions? options = null)
        where TEvent : IEventPayload =>
        Build(@event, options).Jobs;

    private (IReadOnlyList<EventSubscription> Subscriptions, IReadOnlyList<NewJob> Jobs) Build<TEvent>(TEvent @event, PublishOptions? publish)
        where TEvent : IEventPayload
    {
        ArgumentNullException.ThrowIfNull(@event);
        var eventType = TEvent.EventType;
        JobType.EnsureValid(eventType, nameof(TEvent));
        if (publish?.UniqueKey is { Length: > MaxUniqueKeyLength })
        {
            throw new ArgumentException($"PublishOptions.UniqueKey: must be 1 to {MaxUniqueKeyLength} characters.", "options");
        }

        var subscriptions = registry.For(eventType);
        if (subscriptions.Count == 0)
        {
            if (options.Value.Events.NoSubscribers == NoSubscribersAction.Throw)
            {
                throw new InvalidOperationException(
                    $"Event '{eventType}' has no subscriber: register one with AddSubscriber<{typeof(TEvent).Name}, TSubscriber>() " +
                    "in every process that publishes it, or set Conveyor:Events:NoSubscribers=Log to publish it to nobody.");
            }

            Log.EventWithoutSubscribers(logger, eventType);
            return (subscriptions, []);
        }

        // One serialisation for every subscriber; each job's options are its subscriber's and the publish's.
        var payload = serializer.Serialize(@event);
        var jobs = new NewJob[subscriptions.Count];
        for (var i = 0; i < subscriptions.Count; i++)
        {
            var subscription = subscriptions[i];
            var jobOptions = subscription.Options with
            {
                Tenant = publish?.Tenant,
                ProcessAt = publish?.ProcessAt,
                ProcessIn = publish?.ProcessIn,
                Deadline = publish?.Deadline,
                UniqueKey = publish?.UniqueKey is { } key ? $"{key}>{subscription.JobType}" : null,
                UniqueFor = publish?.UniqueFor,
            };
            try
            {
                jobs[i] = client.CreateJob(subscription.JobType, payload, jobOptions);
            }
            catch (ArgumentException e) when (e.Message.StartsWith("JobOptions.", StringComparison.Ordinal))
            {
                // The publish's options are the ones a caller can get wrong; name them as the caller wrote them.
                throw new ArgumentException("Publish" + e.Message, "options", e);
            }
        }

        return (subscriptions, jobs);
    }

    private async Task<PublishResult> StoreAsync(string eventType, IReadOnlyList<EventSubscription> subscriptions, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        EnqueueAllResult stored;
        using (EnqueueTracing.StartBatchPublish(jobs))
        {
            stored = await store.EnqueueAllOrNoneAsync(jobs, cancellationToken).ConfigureAwait(false);
        }

        if (!stored.AllStored)
        {
            Log.EventDuplicate(logger, eventType, jobs[stored.RefusedIndex].Type, stored.Refusal!.JobId);
            return new PublishResult { EventType = eventType, Jobs = [], Duplicate = stored.Refusal };
        }

        var published = new SubscriberJob[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var result = stored.Results[i];
            published[i] = new SubscriberJob(subscriptions[i].Name, jobs[i].Type, result.Queue, result.JobId, result.State);
            metrics.JobEnqueued(jobs[i].Type, jobs[i].Queue);
        }

        readySignal.Set();
        Log.EventPublished(logger, eventType, jobs.Count);
        return new PublishResult { EventType = eventType, Jobs = published };
    }
}
