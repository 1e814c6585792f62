namespace Conveyor;

/// <summary>Decides how long a failed attempt waits before the job runs again. Register your own to replace the default.</summary>
public interface IRetryPolicy
{
    /// <summary>How long to wait before the next attempt of a job whose attempt failed.</summary>
    TimeSpan GetDelay(RetryDelayArguments arguments);
}
