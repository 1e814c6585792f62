namespace Conveyor;

/// <summary>
/// Ends a handler's attempt so that its job waits without holding a worker slot: thrown by
/// <see cref="JobContext.WaitForSignalAsync(string, TimeSpan, CancellationToken)"/> and the durable sleeps of
/// <see cref="JobContext"/> when the job must wait. Let it through: the server parks the job (no attempt counted) and
/// runs the handler again when the signal arrives or the time comes, its finished steps skipped. A handler that catches
/// every exception should rethrow this one (<c>catch (Exception e) when (e is not JobSuspendedException)</c>).
/// </summary>
public sealed class JobSuspendedException : Exception
{
    /// <summary>Creates the exception with the reason the job waits.</summary>
    public JobSuspendedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public JobSuspendedException()
        : base("The attempt ended so that the job waits; it runs again when what it waits for comes.")
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public JobSuspendedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
