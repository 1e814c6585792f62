namespace Conveyor;

/// <summary>A handler's request to end its attempt waiting for signal <paramref name="Name"/> until <paramref name="Until"/>.</summary>
internal sealed record JobSignalWaitRequest(string Name, DateTimeOffset Until);
