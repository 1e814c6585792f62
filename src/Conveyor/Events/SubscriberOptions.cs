namespace Conveyor;

/// <summary>
/// How one subscriber's jobs run: each subscriber of an event has its own, so one subscriber's retries, timeout or
/// slowness never touch another's. Unset values take the defaults of any job (<c>Conveyor:DefaultMaxRetry</c>,
/// <c>Conveyor:Retention</c>).
/// </summary>
public sealed class SubscriberOptions
{
    /// <summary>
    /// The subscriber's name, the last part of its job type (<see cref="EventJobType"/>); default: the subscriber class's
    /// name in kebab case (<see cref="EventJobType.DefaultName"/>).
    /// </summary>
    public string? Name { get; set; }

    /// <summary>Retries after the first attempt (0–1000).</summary>
    public int? MaxRetry { get; set; }

    /// <summary>Longest one attempt may run.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>How long the finished job stays readable, whatever its outcome.</summary>
    public TimeSpan? Retention { get; set; }
}
