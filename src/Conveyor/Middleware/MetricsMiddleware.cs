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
        var attempt = metrics.JobStarted(context.JobType, context.Queue);
        try
        {
            await next(context).ConfigureAwait(false);
            // A handler that ignored its token may return after its lease ended: nothing of it is recorded.
            var status = context.LeaseLost ? AttemptStatus.LeaseLost : context.SnoozeRequest is null ? AttemptStatus.Success : AttemptStatus.Snoozed;
            metrics.JobProcessed(attempt, status, timeProvider.GetElapsedTime(started));
        }
        catch (Exception e)
        {
            // A wait or a sleep is not the job's failure, nor a shutdown's hand-back: the job waits, as the processor
            // records it (AckOutcome.Snoozed).
            var status = e is JobSuspendedException ? AttemptStatus.Snoozed : AttemptStatus.OfInterrupted(context.StopReasonFor(e));
            metrics.JobProcessed(attempt, status, timeProvider.GetElapsedTime(started));
            throw;
        }
    }
}
