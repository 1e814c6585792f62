using Conveyor.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conveyor.Middleware;

/// <summary>
/// Innermost of the built-ins: a log scope with job_id, job_type, queue and attempt around the handler, so that the
/// handler's own log lines carry them, and one line per attempt's end.
/// </summary>
internal sealed class LoggingMiddleware(ILogger<LoggingMiddleware> logger, TimeProvider timeProvider) : IJobMiddleware
{
    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        if (!logger.IsEnabled(LogLevel.Debug) && !logger.IsEnabled(LogLevel.Warning))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        using var scope = logger.BeginScope(new JobLogScope(context));
        var started = timeProvider.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
            Log.AttemptSucceeded(logger, context.JobId, context.JobType, context.Queue, context.Attempt, timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e)
        {
            var elapsed = timeProvider.GetElapsedTime(started).TotalMilliseconds;
            switch (AttemptStatus.OfInterrupted(context.StopReasonFor(e)))
            {
                case AttemptStatus.Released:
                    Log.AttemptReleased(logger, context.JobId, context.JobType, context.Queue, context.Attempt, elapsed);
                    break;
                case AttemptStatus.Cancelled:
                    // Not a failure: the processor logs the cancellation once.
                    break;
                default:
                    Log.AttemptFailed(logger, context.JobId, context.JobType, context.Queue, context.Attempt, elapsed, e.Message);
                    break;
            }

            throw;
        }
    }
}
