using Conveyor.Diagnostics;

namespace Conveyor.Middleware;

/// <summary>Records <c>job_processed_total{task_type,queue,status}</c> and <c>job_duration_seconds{task_type,queue}</c>.</summary>
internal sealed class MetricsMiddleware(ConveyorMetrics metrics, TimeProvider timeProvider) : IJobMiddleware
{
    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        var started = timeProvider.GetTimestamp();
        metrics.JobStarted(context.JobType, context.Queue);
        try
        {
            await next(context).ConfigureAwait(false);
            metrics.JobProcessed(context.JobType, context.Queue, succeeded: true, timeProvider.GetElapsedTime(started));
        }
        catch
        {
            metrics.JobProcessed(context.JobType, context.Queue, succeeded: false, timeProvider.GetElapsedTime(started));
            throw;
        }
    }
}
