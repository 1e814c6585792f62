using Conveyor.Diagnostics;

namespace Conveyor.Middleware;

/// <summary>
/// Records <c>job_processed_total{task_type,queue,status}</c> (status per <see cref="AttemptStatus"/>) and
/// <c>job_duration_seconds{task_type,queue}</c>.
/// </summary>
internal sealed class MetricsMiddleware(ConveyorMetrics metrics, TimeProvider timeProvider) : IJobMiddleware
{
    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        var started = timeProvider.GetTimestamp();
        metrics.JobStarted(context.JobType, context.Queue);
        try
        {
            await next(context).ConfigureAwait(false);
            metrics.JobProcessed(context.JobType, context.Queue, AttemptStatus.Success, timeProvider.GetElapsedTime(started));
        }
        catch (Exception e)
        {
            metrics.JobProcessed(context.JobType, context.Queue, AttemptStatus.OfInterrupted(context.StopReasonFor(e)), timeProvider.GetElapsedTime(started));
            throw;
        }
    }
}
