using System.Collections.Frozen;

namespace Conveyor.Handlers;

/// <summary>The handlers a server runs, by job type. Built once at start; lookups are a frozen dictionary read.</summary>
internal sealed class JobHandlerRegistry : IRegisteredJobTypes, IJobPayloadValidator
{
    private readonly FrozenDictionary<string, JobInvoker> _invokers;
    private readonly IServiceProvider? _services;

    /// <param name="invokers">The handlers.</param>
    /// <param name="services">The application's services, for payload records whose own rules need one (IValidatableObject).</param>
    public JobHandlerRegistry(IEnumerable<JobInvoker> invokers, IServiceProvider? services = null)
    {
        _services = services;
        var byType = new Dictionary<string, JobInvoker>(StringComparer.Ordinal);
        foreach (var invoker in invokers)
        {
            if (!byType.TryAdd(invoker.JobType, invoker))
            {
                throw new InvalidOperationException(
                    $"Two handlers are registered for job type '{invoker.JobType}'. Each job type has exactly one handler; use the fan-out pattern to run several.");
            }
        }

        _invokers = byType.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> JobTypes => _invokers.Keys;

    /// <summary>True when some handler's payload is an <see cref="IIdempotentJob"/>: only then is the idempotency step in the pipeline.</summary>
    public bool HasIdempotentHandlers => _invokers.Values.Any(static i => i.Idempotency is not null);

    public bool TryGet(string jobType, out JobInvoker invoker) => _invokers.TryGetValue(jobType, out invoker!);

    public JobPayloadProblem? Validate(string jobType, ReadOnlyMemory<byte> payload) =>
        _invokers.TryGetValue(jobType, out var invoker) ? invoker.ValidatePayload(payload, _services) : null;
}
