using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// A payload the core accepts must fit in a request the API accepts, with room for the rest of the job's JSON: when
/// <c>Conveyor:MaxPayloadBytes</c> is not below <c>Conveyor:Api:MaxRequestBytes</c>, payloads near the core's limit can be
/// enqueued from code but every <c>POST /jobs</c> carrying one is refused with 413. Both settings are valid alone, so
/// the start goes on with a warning that names them.
/// </summary>
internal sealed partial class PayloadLimitCheck(IOptions<ConveyorOptions> conveyor, IOptions<ConveyorApiOptions> api, ILogger<PayloadLimitCheck> logger) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        var payload = conveyor.Value.MaxPayloadBytes;
        var request = api.Value.MaxRequestBytes;
        if (payload >= request)
        {
            LogPayloadAboveRequest(logger, payload, request);
        }

        return next;
    }

    [LoggerMessage(LogLevel.Warning,
        "Conveyor:MaxPayloadBytes ({payloadBytes}) is not below Conveyor:Api:MaxRequestBytes ({requestBytes}): the Jobs API refuses with 413 a job whose payload is near the payload limit. Raise Conveyor:Api:MaxRequestBytes above the payload limit (by default it is twice it).")]
    private static partial void LogPayloadAboveRequest(ILogger logger, int payloadBytes, int requestBytes);
}
