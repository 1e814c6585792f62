namespace Conveyor;

/// <summary>
/// No handler is registered for the job's type in the server that leased it. The job fails without retry;
/// once a handler is deployed it can be run again from the failed set.
/// </summary>
public sealed class UnknownJobTypeException : SkipRetryException
{
    /// <summary>No handler is registered for <paramref name="jobType"/>.</summary>
    public UnknownJobTypeException(string jobType)
        : base($"No handler is registered for job type '{jobType}'. Register one with AddHandler<THandler>() on the server.")
    {
        JobType = jobType;
    }

    /// <summary>The type name no handler is registered for.</summary>
    public string JobType { get; }
}
