using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>Registers the server in the store every few seconds, so that operators can list the live servers.</summary>
internal sealed class ServerHeartbeat(
    IJobStore store,
    Func<ServerInfo> describe,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(Interval, timeProvider, logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>A server that misses three beats disappears from the list.</summary>
    public static readonly TimeSpan Expiry = Interval * 3;

    // UTC ticks of the last heartbeat the store accepted; 0 before the first.
    private long _lastBeatTicks;

    protected override string Name => "Server heartbeat";

    /// <summary>When the store last accepted this server's heartbeat, or null before the first (for the health check).</summary>
    public DateTimeOffset? LastBeatAt => Volatile.Read(ref _lastBeatTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await store.HeartbeatServerAsync(describe(), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _lastBeatTicks, TimeProvider.GetUtcNow().UtcTicks);
    }
}
