namespace Conveyor.Middleware;

/// <summary>
/// Outermost: whatever a handler or an inner middleware throws is caught and recorded as the attempt's failure
/// in <see cref="JobContext.Exception"/>, so that no exception ever ends a worker loop. The processor logs the
/// attempt's outcome, with the exception, once.
/// </summary>
internal sealed class RecoveryMiddleware : IJobMiddleware
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
        }
    }
}
