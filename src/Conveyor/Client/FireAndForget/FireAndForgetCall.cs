namespace Conveyor.Client.FireAndForget;

/// <summary>
/// One buffered call: what the pump needs to build the job later exactly as it would have been built at the call. A
/// struct, so the buffer holds calls without an allocation each; the job id and the stored record are made by the pump.
/// </summary>
/// <param name="JobType">The job type, checked at the call.</param>
/// <param name="Payload">The serialised payload, taken at the call (a payload object changed afterwards does not change the job).</param>
/// <param name="Options">The caller's options, checked at the call; null for none.</param>
/// <param name="Queue">The queue the job goes to: the options' queue or the configured default.</param>
/// <param name="CalledAt">The moment of the call: relative options (<see cref="JobOptions.ProcessIn"/>, unique-for) count from it.</param>
/// <param name="TraceParent">The caller's trace context, so the job's processing joins the caller's trace.</param>
/// <param name="JobId">The id chosen at the call when a creation span named it; null to let the pump choose.</param>
internal readonly record struct FireAndForgetCall(
    string JobType,
    ReadOnlyMemory<byte> Payload,
    JobOptions? Options,
    string Queue,
    DateTimeOffset CalledAt,
    string? TraceParent,
    string? JobId);
