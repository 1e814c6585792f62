using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis;

/// <summary>
/// Which Redis failures mean "the store is unavailable for now", so that the server backs off and retries:
/// transport failures and timeouts, and server states that pass (loading, failover, a full Redis with noeviction).
/// </summary>
internal static class RedisFailures
{
    // The error codes of a Redis in a passing state, and of a Cluster during a failover or a resharding: a slot's primary
    // is down (CLUSTERDOWN), moved (MOVED or ASK that the client could not follow: inside MULTI, or a script on a slot that
    // just moved), a replica not yet promoted (READONLY), or keys being migrated (TRYAGAIN).
    private static readonly string[] TransientServerErrors =
        ["LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "NOREPLICAS", "OOM", "MOVED ", "ASK ", "EXECABORT"];

    public static bool IsTransient(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException => true,

        // The connection's pipe completed under a pending read: StackExchange.Redis fails the call with the pipe's own
        // error when the connection drops mid-reply (seen while Redis was frozen and the client reconnected).
        InvalidOperationException { Source: "System.IO.Pipelines" } => true,

        // A call the client gave up when it dropped the connection (Redis frozen past its timeouts) ends as a cancelled
        // task: no token of the caller's was cancelled, so it is the store's failure, not the caller's cancellation.
        OperationCanceledException cancelled => !cancelled.CancellationToken.IsCancellationRequested,
        // EXECABORT: a command of a MULTI was refused as it was queued, so none ran. The store's transactions are fixed
        // commands on keys of one slot, so what refuses one is the node's state (one of the codes above, which EXEC does
        // not repeat: a moved or down slot, a replica, OOM), never the request: it passes like the others.
        RedisServerException server => TransientServerErrors.Any(code => server.Message.StartsWith(code, StringComparison.Ordinal)),

        // The client's own refusal of a write whose slot it maps, for now, to a replica: its primary was lost and the
        // replica not yet promoted (or the client has not yet heard that it was). It passes with the failover.
        RedisCommandException command => command.Message.StartsWith("Command cannot be issued to a replica", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>
    /// The connection failed its authentication: StackExchange.Redis's AuthenticationFailure, on the failure itself or as
    /// the last connection failure a timed-out command names. A wrong password or user shows so, and so does a TLS
    /// handshake broken off by a restart or a proxy, which passes: it stays an outage, only named.
    /// </summary>
    public static bool IsAuthenticationFailure(Exception exception) => exception switch
    {
        RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure } => true,
        RedisException redis when redis.Message.Contains("Last Connection Exception: AuthenticationFailure", StringComparison.Ordinal) => true,
        { InnerException: { } inner } => IsAuthenticationFailure(inner),
        _ => false,
    };

    public static JobStoreUnavailableException Unavailable(Exception exception) =>
        new($"Redis is unavailable: {exception.Message}{SentinelHint(exception)}", exception);

    /// <summary>
    /// What to check when StackExchange.Redis's words about Sentinel (or a Sentinel's own refusal) say the configuration
    /// string mixes up Sentinels and data nodes: its messages name neither the setting nor the fix.
    /// </summary>
    private static string SentinelHint(Exception exception)
    {
        var message = exception.Message + exception.InnerException?.Message;
        if (message.Contains("unknown command 'ECHO'", StringComparison.Ordinal))
        {
            return " The endpoints in Conveyor:Redis:Configuration refuse ECHO, as Redis Sentinels do: to reach the primary a "
                + "Sentinel monitors, add serviceName=<its name> to the string (docs/redis.md, \"Sentinel\").";
        }

        if (message.Contains("is not a Sentinel connection", StringComparison.Ordinal))
        {
            return " Conveyor:Redis:Configuration has serviceName=, so its endpoints must be Redis Sentinels: none of them "
                + "answered as one (they are down or unreachable, or they are data nodes: then remove serviceName=).";
        }

        if (message.Contains("Failed connecting to configured primary for service", StringComparison.Ordinal))
        {
            return " The Sentinels answered but gave no reachable primary for that service: check serviceName= in "
                + "Conveyor:Redis:Configuration against the name in their `sentinel monitor` line, and that the primary is up.";
        }

        return string.Empty;
    }

    public static bool IsNoScript(RedisServerException exception) =>
        exception.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);
}
