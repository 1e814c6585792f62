namespace Conveyor.Server;

/// <summary>Delay between tries against a store that is down: 100 ms doubling to 5 s, with jitter.</summary>
internal struct Backoff
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);
    private int _failures;

    public TimeSpan Next()
    {
        var ms = Math.Min(Initial.TotalMilliseconds * Math.Pow(2, _failures), Max.TotalMilliseconds);
        _failures = Math.Min(_failures + 1, 16);
        return TimeSpan.FromMilliseconds((ms / 2) + (Random.Shared.NextDouble() * ms / 2));
    }

    public void Reset() => _failures = 0;
}
