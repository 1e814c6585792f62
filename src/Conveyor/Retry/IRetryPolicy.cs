namespace Conveyor;

/// <summary>Decides how long a failed attempt waits before the job runs again. Register your own to replace the default.</summary>
public interface IRetryPolicy
{
    TimeSpan GetDelay(RetryDelayArguments arguments);
}
