using System.Collections.Frozen;
using Microsoft.Extensions.DependencyInjection;
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
        var registered = services.GetService<IRegisteredJobTypes>()?.JobTypes ?? [];
        _types = options.Value.JobTypes.Concat(registered).ToFrozenSet(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Types => _types;

    public bool Contains(string jobType) => _types.Contains(jobType);
}
