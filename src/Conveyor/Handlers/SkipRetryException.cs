namespace Conveyor;

/// <summary>
/// Thrown by a handler (directly, or as the inner exception of what it throws) for an error that retrying cannot
/// fix, such as an invalid payload: the job fails at once instead of being retried.
/// </summary>
public class SkipRetryException : Exception
{
    /// <summary>Fails the job at once, without a message.</summary>
    public SkipRetryException()
        : base("The job failed with an error that retrying cannot fix.")
    {
    }

    /// <summary>Fails the job at once with <paramref name="message"/> as its error.</summary>
    public SkipRetryException(string message)
        : base(message)
    {
    }

    /// <summary>Fails the job at once with <paramref name="message"/> as its error and the exception that caused it.</summary>
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
