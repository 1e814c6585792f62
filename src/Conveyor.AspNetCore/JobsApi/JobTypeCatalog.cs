using System.Collections.Frozen;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The job types <c>POST /jobs</c> accepts: those with a handler registered in this process, plus
/// <see cref="ConveyorApiOptions.JobTypes"/>. A type nobody runs would sit in its queue for ever, so it is refused.
/// A type whose handler here has a payload type has its payload checked against it too.
/// </summary>
internal sealed class JobTypeCatalog
{
    private readonly FrozenSet<string> _types;
    private readonly IJobPayloadValidator? _payloads;

    public JobTypeCatalog(IServiceProvider services, IOptions<ConveyorApiOptions> options)
    {
        var registered = services.GetService<IRegisteredJobTypes>()?.JobTypes ?? [];
        _types = options.Value.JobTypes.Concat(registered).ToFrozenSet(StringComparer.Ordinal);
        _payloads = services.GetService<IJobPayloadValidator>();
    }

    public IReadOnlyCollection<string> Types => _types;

    public bool Contains(string jobType) => _types.Contains(jobType);

    /// <summary>Why <paramref name="jobType"/> is refused, with the way to accept a type that runs in other processes.</summary>
    public string Unknown(string jobType) =>
        (_types.Count == 0
            ? $"no handler runs '{jobType}'; this server runs no job type. "
            : $"no handler runs '{jobType}'; this server runs: {string.Join(", ", _types.Order(StringComparer.Ordinal))}. ") +
        $"A type whose handler runs in other processes is accepted once listed in {ConveyorApiOptions.SectionName}:JobTypes.";

    /// <summary>The body field (<c>payload</c>, <c>payload.note_id</c>…) and reason when the payload does not fit the type's payload type.</summary>
    public ParseError? ValidatePayload(string jobType, ReadOnlyMemory<byte> payload)
    {
        if (_payloads?.Validate(jobType, payload) is not { } problem)
        {
            return null;
        }

        // "$" is the payload itself; "$.note_id" or "$['a b'][0]" a place inside it.
        var path = problem.Path.StartsWith('$') ? problem.Path[1..] : "." + problem.Path;
        return new ParseError("payload" + path, problem.Message);
    }
}
