using System.Globalization;

namespace Conveyor.PeerRunner;

/// <summary>Exactly what the harness asks of every peer: one RPUSH of (start - enqueue) in ms, nothing else.</summary>
internal sealed class PeerHandler(LatencyRecorder recorder) : IJobHandler<PeerJob>
{
    public Task HandleAsync(PeerJob payload, JobContext context, CancellationToken cancellationToken)
    {
        var latency = (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds - payload.T;
        return recorder.PushAsync(latency.ToString("F3", CultureInfo.InvariantCulture));
    }
}
