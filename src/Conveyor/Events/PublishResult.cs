namespace Conveyor;

/// <summary>The job of one subscriber, stored by a publish.</summary>
/// <param name="Subscriber">The subscriber's name.</param>
/// <param name="JobType">Its job type, <c>{event type}.{subscriber}</c>.</param>
/// <param name="Queue">The queue the job waits in.</param>
/// <param name="JobId">The job's id, to read it back (<c>IJobClient.GetJobAsync</c>, <c>GET /jobs/{id}</c>).</param>
/// <param name="State">Pending, or scheduled for a publish with <see cref="PublishOptions.ProcessAt"/>.</param>
public sealed record SubscriberJob(string Subscriber, string JobType, string Queue, string JobId, JobState State);

/// <summary>What a publish did: one job per subscriber, all stored, or none.</summary>
public sealed record PublishResult
{
    /// <summary>The event type published.</summary>
    public required string EventType { get; init; }

    /// <summary>One job per subscriber, in registration order; empty when the publish was refused or the event has no subscriber.</summary>
    public required IReadOnlyList<SubscriberJob> Jobs { get; init; }

    /// <summary>
    /// Set when nothing was stored because a subscriber's job duplicates another job (the publish's
    /// <see cref="PublishOptions.UniqueKey"/> is held): that job's id, state and queue.
    /// </summary>
    public EnqueueResult? Duplicate { get; init; }

    /// <summary>True when the publish was refused as a duplicate and stored nothing.</summary>
    public bool IsDuplicate => Duplicate is not null;

    /// <summary>The job id of the named subscriber's job; null when it has none.</summary>
    public string? JobIdOf(string subscriber) => Jobs.FirstOrDefault(j => j.Subscriber == subscriber)?.JobId;
}
