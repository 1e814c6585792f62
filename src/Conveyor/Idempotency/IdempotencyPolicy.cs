using System.Reflection;

namespace Conveyor.Idempotency;

/// <summary>How one handler's jobs are made idempotent, read once at registration from its payload and its attribute.</summary>
internal sealed record IdempotencyPolicy(IdempotencyFailureMode FailureMode, TimeSpan KeepDoneFor)
{
    /// <summary>
    /// The policy of <paramref name="handlerType"/> for <paramref name="payloadType"/>; null when the payload does not
    /// implement <see cref="IIdempotentJob"/>. Throws for an attribute that cannot apply.
    /// </summary>
    public static IdempotencyPolicy? For(Type payloadType, Type handlerType)
    {
        var attribute = handlerType.GetCustomAttribute<IdempotentAttribute>();
        if (!typeof(IIdempotentJob).IsAssignableFrom(payloadType))
        {
            return attribute is null
                ? null
                : throw new InvalidOperationException(
                    $"{handlerType.Name} is marked [Idempotent] but its payload {payloadType.Name} does not implement IIdempotentJob: " +
                    "implement it to say which key makes two jobs the same work.");
        }

        attribute ??= new IdempotentAttribute();
        if (!double.IsFinite(attribute.KeepDoneForHours) || attribute.KeepDoneForHours <= 0 || attribute.KeepDoneForHours > 24 * 366)
        {
            throw new InvalidOperationException(
                $"[Idempotent(KeepDoneForHours = {attribute.KeepDoneForHours})] on {handlerType.Name}: give a number of hours above 0 and at most a year (8784).");
        }

        if (!Enum.IsDefined(attribute.FailureMode))
        {
            throw new InvalidOperationException(
                $"[Idempotent(FailureMode = {(int)attribute.FailureMode})] on {handlerType.Name}: use IdempotencyFailureMode.FailOpen or FailClosed.");
        }

        return new IdempotencyPolicy(attribute.FailureMode, TimeSpan.FromHours(attribute.KeepDoneForHours));
    }
}
