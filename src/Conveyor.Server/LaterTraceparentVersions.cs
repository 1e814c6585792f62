using System.Diagnostics;
using System.Globalization;

namespace Conveyor.Server;

/// <summary>
/// Reads a <c>traceparent</c> of a later W3C Trace Context version as the spec asks a version-00 reader to: its first
/// four fields, the sampled flag alone, as version 00. .NET's reader takes version 00's exact length only and, for
/// anything else, starts a trace of its own kind (an id like "|01-…"), so a client on a later version lost the link
/// from its request to the job it created (the job's <c>trace_id</c> was null) and to the request's problem details.
/// A decorator of the host's propagator, the seam ASP.NET Core reads a request's trace context through.
/// </summary>
internal sealed class LaterTraceparentVersions(DistributedContextPropagator inner) : DistributedContextPropagator
{
    // "vv-<32 hex trace id>-<16 hex parent id>-ff": version 00 is exactly this long; a later one may add "-…" fields.
    private const int Version00Length = 55;

    public override IReadOnlyCollection<string> Fields => inner.Fields;

    public static void Register(IServiceCollection services) =>
        services.AddSingleton<DistributedContextPropagator>(new LaterTraceparentVersions(DistributedContextPropagator.CreateDefaultPropagator()));

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) => inner.Inject(activity, carrier, setter);

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);
        traceId = AsVersion00(traceId);
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) => inner.ExtractBaggage(carrier, getter);

    /// <summary>A later version's header as version 00; anything else as it came (the host judges it as before).</summary>
    internal static string? AsVersion00(string? traceparent)
    {
        if (traceparent is null || traceparent.Length < Version00Length
            || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-'
            || (traceparent.Length > Version00Length && traceparent[Version00Length] != '-')
            || !byte.TryParse(traceparent.AsSpan(0, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var version)
            || version is 0 or 0xff
            || !byte.TryParse(traceparent.AsSpan(53, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var flags))
        {
            return traceparent;
        }

        // A later version's other flags may mean something else: only "sampled" is read.
        var candidate = string.Concat("00", traceparent.AsSpan(2, 51), (flags & 1) == 1 ? "01" : "00");
        return ActivityContext.TryParse(candidate, null, out _) ? candidate : traceparent;
    }
}
