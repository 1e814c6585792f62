using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// A payload the core accepts must fit in a request the API accepts, with room for the rest of the job's JSON (its
/// type, queue and options, <see cref="EnvelopeBytes"/>): otherwise payloads near <c>Conveyor:MaxPayloadBytes</c> can be
/// enqueued from code but every <c>POST /jobs</c> carrying one is refused with 413. Both settings are valid alone, so
/// the start goes on with a warning that names them.
/// </summary>
internal sealed partial class PayloadLimitCheck(IOptions<ConveyorOptions> conveyor, IOptions<ConveyorApiOptions> api, ILogger<PayloadLimitCheck> logger) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        var payload = conveyor.Value.MaxPayloadBytes;
        var request = api.Value.MaxRequestBytes;
        if (payload > request - EnvelopeBytes)
        {
            LogPayloadAboveRequest(logger, payload, request);
        }

        return next;
    }

    /// <summary>The room a request needs beside its payload.</summary>
    internal const int EnvelopeBytes = 4096;

    [LoggerMessage(1001, LogLevel.Warning,
        "Conveyor:MaxPayloadBytes ({payloadBytes}) leaves less than 4 KiB of Conveyor:Api:MaxRequestBytes ({requestBytes}) for the rest of a job's JSON: the Jobs API refuses with 413 a job whose payload is near the payload limit. Raise Conveyor:Api:MaxRequestBytes (2 MiB by default) above the payload limit.")]
    private static partial void LogPayloadAboveRequest(ILogger logger, int payloadBytes, int requestBytes);
}
