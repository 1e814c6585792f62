namespace Conveyor;

/// <summary>
/// The idempotency settings of a handler whose payload implements <see cref="IIdempotentJob"/> (without the
/// attribute the defaults apply). On a handler whose payload does not implement it, registration throws.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class IdempotentAttribute : Attribute
{
    /// <summary>The default of <see cref="KeepDoneForHours"/>: one day.</summary>
    public const double DefaultKeepDoneForHours = 24;

    /// <summary>The longest key accepted; a longer one fails the job at once (retrying cannot shorten it).</summary>
    public const int MaxKeyLength = 512;

    /// <summary>What happens when the store cannot be reached; <see cref="IdempotencyFailureMode.FailOpen"/> by default.</summary>
    public IdempotencyFailureMode FailureMode { get; set; } = IdempotencyFailureMode.FailOpen;

    /// <summary>
    /// How long a done key is remembered, in hours (default 24): a duplicate that arrives later runs the handler again.
    /// Cover the longest time a duplicate can arrive after the first (client retries, redeliveries, replays).
    /// </summary>
    public double KeepDoneForHours { get; set; } = DefaultKeepDoneForHours;
}
