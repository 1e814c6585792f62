namespace Conveyor.Server;

/// <summary>
/// Delay between tries against a store that is down: 100 ms doubling to 500 ms, each delay drawn between its half
/// and its whole (equal jitter), so that many servers do not retry in step. The cap is low because service should
/// resume within about half a second of the store coming back; one call every 250–500 ms per component and process
/// is no load for a store that is up, and costs nothing on one that refuses connections.
/// </summary>
internal struct Backoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(500);

    // At the cap, about ten seconds of failures between two log lines.
    private const int LogEvery = 25;
    private int _failures;

    /// <summary>
    /// True for the first failure of an outage and then every <see cref="LogEvery"/>th, so that an outage is logged
    /// when it starts and while it lasts without a line per retry.
    /// </summary>
    public readonly bool IsWorthLogging => _failures == 1 || _failures % LogEvery == 0;

    public TimeSpan Next()
    {
        var ms = Math.Min(Initial.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 16)), Max.TotalMilliseconds);
        _failures = _failures == int.MaxValue ? LogEvery : _failures + 1;
        return TimeSpan.FromMilliseconds((ms / 2) + (Random.Shared.NextDouble() * ms / 2));
    }

    public void Reset() => _failures = 0;
}
