namespace Conveyor;

/// <summary>
/// A payload whose handler runs at most once per <see cref="IdempotencyKey"/>: exactly-once effects on top of the
/// at-least-once transport. Implementing it is the opt-in; <see cref="IdempotentAttribute"/> on the handler changes
/// the settings. A duplicate whose key is done is acknowledged as succeeded without running the handler (the job's
/// errors say so); a duplicate that arrives while another job runs the key is snoozed until that one ends; a
/// failed attempt releases the key so that its retry runs. See docs/async-jobs.md, "Handler idempotency".
/// </summary>
public interface IIdempotentJob
{
    /// <summary>
    /// What makes two jobs the same work, e.g. <c>$"order-{OrderId}"</c>: scoped to the job type and the tenant, at
    /// most <see cref="IdempotentAttribute.MaxKeyLength"/> characters, never empty.
    /// </summary>
    string IdempotencyKey { get; }
}
