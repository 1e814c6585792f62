using Conveyor.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conveyor.Middleware;

/// <summary>
/// Outermost: whatever a handler or an inner middleware throws is caught and recorded as the attempt's failure
/// in <see cref="JobContext.Exception"/>, so that no exception ever ends a worker loop.
/// </summary>
internal sealed class RecoveryMiddleware(ILogger<RecoveryMiddleware> logger) : IJobMiddleware
{
    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            context.Exception = e;
            if (e is not OperationCanceledException && !SkipRetryException.IsSkipRetry(e) && AttemptStatus.OfInterrupted(context.StopReasonFor(e)) == AttemptStatus.Failed)
            {
                Log.HandlerThrew(logger, e, context.JobId, context.JobType, context.Queue, context.Attempt);
            }
        }
    }
}
