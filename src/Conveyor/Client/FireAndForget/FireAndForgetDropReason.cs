namespace Conveyor.Client.FireAndForget;

/// <summary>The <c>reason</c> label of <c>job_fire_and_forget_dropped_total</c>, and what each means in a log line.</summary>
internal static class FireAndForgetDropReason
{
    /// <summary>The buffer was full (at once with <see cref="FireAndForgetFullMode.Drop"/>, after the wait with <see cref="FireAndForgetFullMode.Wait"/>).</summary>
    public const string BufferFull = "buffer_full";

    /// <summary>The caller's token was cancelled while the call waited for room.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The store kept failing (<c>JobStoreUnavailableException</c>) until the enqueue timeout passed.</summary>
    public const string StoreUnavailable = "store_unavailable";

    /// <summary>The store did not answer within the enqueue timeout; the jobs may or may not have been stored.</summary>
    public const string Timeout = "timeout";

    /// <summary>The store refused the batch with an error that retrying would not fix.</summary>
    public const string Error = "error";

    /// <summary>Still buffered when the shutdown's flush bound passed, or called after the pump stopped.</summary>
    public const string Shutdown = "shutdown";

    public static string Describe(string reason, FireAndForgetOptions options) => reason switch
    {
        BufferFull => options.FullMode == FireAndForgetFullMode.Wait
            ? $"the buffer stayed full for Conveyor:FireAndForget:FullWaitTimeout ({options.FullWaitTimeout}); raise BufferCapacity ({options.BufferCapacity}) or find why the store is slow"
            : $"the buffer was full (Conveyor:FireAndForget:BufferCapacity {options.BufferCapacity}); raise it, use FullMode Wait, or find why the store is slow",
        Cancelled => "the caller cancelled its call while it waited for room in the buffer",
        StoreUnavailable => $"the store could not be reached within Conveyor:FireAndForget:EnqueueTimeout ({options.EnqueueTimeout})",
        Timeout => $"the store did not answer within Conveyor:FireAndForget:EnqueueTimeout ({options.EnqueueTimeout}); the jobs are in doubt: a store that finishes the call late stores them all the same",
        Error => "the store refused the batch",
        Shutdown => $"the host was shutting down and the buffer could not be stored within Conveyor:FireAndForget:ShutdownTimeout ({options.ShutdownTimeout})",
        _ => reason,
    };
}
