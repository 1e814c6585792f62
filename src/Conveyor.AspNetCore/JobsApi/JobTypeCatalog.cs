using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The job types <c>POST /jobs</c> accepts: those with a handler registered in this process, plus
/// <see cref="ConveyorApiOptions.JobTypes"/>. A type nobody runs would sit in its queue for ever, so it is refused.
/// </summary>
internal sealed class JobTypeCatalog
{
    private readonly FrozenSet<string> _types;

    public JobTypeCatalog(IServiceProvider services, IOptions<ConveyorApiOptions> options)
    {
        _types = options.Value.JobTypes.Concat(RegisteredHandlerTypes(services)).ToFrozenSet(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Types => _types;

    public bool Contains(string jobType) => _types.Contains(jobType);

    /// <summary>
    /// The core keeps its handler registry internal; it is read once, here, at start. (A public list of registered
    /// job types in the core would remove this reflection.)
    /// </summary>
    private static IEnumerable<string> RegisteredHandlerTypes(IServiceProvider services)
    {
        var registryType = typeof(IJobClient).Assembly.GetType("Conveyor.Handlers.JobHandlerRegistry", throwOnError: false);
        var registry = registryType is null ? null : services.GetService(registryType);
        var property = registryType?.GetProperty("JobTypes");
        return registry is not null && property?.GetValue(registry) is IEnumerable<string> types ? types.ToList() : [];
    }
}
