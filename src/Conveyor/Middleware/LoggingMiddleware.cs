using Microsoft.Extensions.Logging;

namespace Conveyor.Middleware;

/// <summary>
/// Innermost of the built-ins: a log scope with job_id, job_type, queue, attempt and tenant around the handler, so that
/// the handler's own log lines carry them. The attempt's outcome line is the processor's, which alone knows whether a
/// failure is retried, so each outcome is logged exactly once.
/// </summary>
internal sealed class LoggingMiddleware(ILogger<LoggingMiddleware> logger) : IJobMiddleware
{
    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        using var scope = logger.BeginScope(new JobLogScope(context));
        await next(context).ConfigureAwait(false);
    }
}
