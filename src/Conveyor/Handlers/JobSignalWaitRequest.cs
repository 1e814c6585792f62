namespace Conveyor;

/// <summary>
/// A handler's request to end its attempt waiting for any of the signals <paramref name="Names"/> (in the order the
/// handler started their waits) until <paramref name="Until"/>, the earliest of their deadlines.
/// </summary>
internal sealed record JobSignalWaitRequest(IReadOnlyList<string> Names, DateTimeOffset Until);
