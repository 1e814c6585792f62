namespace Conveyor;

/// <summary>What a publish of an event without subscribers does (<c>Conveyor:Events:NoSubscribers</c>).</summary>
public enum NoSubscribersAction
{
    /// <summary>Throw <see cref="InvalidOperationException"/> at the publish: an event nobody hears is a wiring mistake.</summary>
    Throw = 0,

    /// <summary>Store nothing, log a warning and return an empty result: for events published ahead of their subscribers.</summary>
    Log = 1,
}

/// <summary>Settings of event fan-out, bound from <c>Conveyor:Events</c>.</summary>
public sealed class ConveyorEventsOptions
{
    /// <summary>What publishing an event that has no subscriber does; default <see cref="NoSubscribersAction.Throw"/>.</summary>
    public NoSubscribersAction NoSubscribers { get; set; } = NoSubscribersAction.Throw;
}
