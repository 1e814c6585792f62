namespace Conveyor;

/// <summary>
/// Thrown by a handler (directly, or as the inner exception of what it throws) for an error that retrying cannot
/// fix, such as an invalid payload: the job fails at once instead of being retried.
/// </summary>
public class SkipRetryException : Exception
{
    public SkipRetryException()
        : base("The job failed with an error that retrying cannot fix.")
    {
    }

    public SkipRetryException(string message)
        : base(message)
    {
    }

    public SkipRetryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True if <paramref name="exception"/> or any exception it wraps is a <see cref="SkipRetryException"/>.</summary>
    public static bool IsSkipRetry(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SkipRetryException)
            {
                return true;
            }
        }

        return false;
    }
}
