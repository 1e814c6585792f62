namespace Conveyor.Client.FireAndForget;

/// <summary>The <c>reason</c> label of <c>job_fire_and_forget_dropped_total</c>, and what each means in a log line.</summary>
internal static class FireAndForgetDropReason
{
    /// <summary>The buffer was full (at once with <see cref="FireAndForgetFullMode.Drop"/>, after the wait with <see cref="FireAndForgetFullMode.Wait"/>).</summary>
    public const string BufferFull = "buffer_full";

    /// <summary>The caller's token was cancelled while the call waited for room.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The store refused the batch with an error that retrying would not fix.</summary>
    public const string Error = "error";

    /// <summary>
    /// Still buffered when the shutdown's flush bound passed, or called after the pump stopped. Those of a round trip
    /// still in flight then are in doubt: a store that finishes it late stores them.
    /// </summary>
    public const string Shutdown = "shutdown";

    public static string Describe(string reason, FireAndForgetOptions options) => reason switch
    {
        BufferFull => options.FullMode == FireAndForgetFullMode.Wait
            ? $"the buffer stayed full for Conveyor:FireAndForget:FullWaitTimeout ({options.FullWaitTimeout}); raise BufferCapacity ({options.BufferCapacity}) or find why the store is slow"
            : $"the buffer was full (Conveyor:FireAndForget:BufferCapacity {options.BufferCapacity}); raise it, use FullMode Wait, or find why the store is slow",
        Cancelled => "the caller cancelled its call while it waited for room in the buffer",
        Error => "the store refused the batch",
        Shutdown => $"the host was shutting down and the buffer could not be stored within Conveyor:FireAndForget:ShutdownTimeout ({options.ShutdownTimeout}); a batch whose round trip was still in flight may have been stored",
        _ => reason,
    };
}
