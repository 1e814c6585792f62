namespace Conveyor;

/// <summary>
/// Checks a payload against the payload type of the handler registered in this process for its job type, before the
/// job is stored, as the HTTP Jobs API does: a payload that would fail to deserialise in the worker is refused at
/// enqueue instead of failing the job later. The check is strict where the worker is lenient: a property the payload
/// type does not have is a problem (<see cref="System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow"/>),
/// unless the type says otherwise with <c>[JsonUnmappedMemberHandling(Skip)]</c> or has <c>[JsonExtensionData]</c>.
/// A payload type that implements <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/> has its own
/// rules checked too (the first result it gives is the problem, with the application's services in its context).
/// </summary>
public interface IJobPayloadValidator
{
    /// <summary>
    /// Null when the payload fits, or when no handler in this process has a payload type for <paramref name="jobType"/>
    /// (a delegate handler, or a type that runs elsewhere); otherwise where and why it does not fit.
    /// </summary>
    JobPayloadProblem? Validate(string jobType, ReadOnlyMemory<byte> payload);
}

/// <summary>Why a payload does not fit its payload type.</summary>
/// <param name="Path">Where in the payload, as a JSON path from its root (<c>$</c>, <c>$.note_id</c>, <c>$.items[2].sku</c>).</param>
/// <param name="Message">What is wrong there, for people.</param>
public sealed record JobPayloadProblem(string Path, string Message);
