namespace Conveyor.Storage;

/// <summary>
/// The store could not be reached or failed to answer. Stores wrap their transport failures
/// (a closed SQLite file, a Redis connection, a PostgreSQL socket) in this one type so that the
/// server has one place to decide to back off and try again.
/// </summary>
public sealed class JobStoreUnavailableException : Exception
{
    /// <summary>The store could not be reached.</summary>
    public JobStoreUnavailableException()
    {
    }

    /// <summary>The store could not be reached; <paramref name="message"/> says how.</summary>
    public JobStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>The store could not be reached; <paramref name="message"/> says how, <paramref name="innerException"/> is the driver's error.</summary>
    public JobStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// True when the store refused the call before writing anything, so a create or a change it carried was not stored
    /// and can be repeated as it is; false when the writes are in doubt (they may have been stored), which is what an
    /// unreachable store usually means.
    /// </summary>
    public bool NothingWritten { get; init; }
}
