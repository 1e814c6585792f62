using System.Text.Json.Serialization;

namespace Conveyor.PeerRunner;

/// <summary>The harness's no-op job: <c>t</c> is the wall-clock enqueue time in epoch milliseconds.</summary>
internal sealed record PeerJob([property: JsonPropertyName("t")] double T) : IJobPayload
{
    public static string JobType => "bench:noop";
}
