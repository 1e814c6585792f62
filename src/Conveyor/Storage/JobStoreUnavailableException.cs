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
}
