namespace Conveyor;

/// <summary>
/// A step around every attempt, in the shape of ASP.NET Core's <c>IMiddleware</c>. Middleware are singletons
/// (resolved once), so they must be thread-safe; per-job services come from <see cref="JobContext.Services"/>.
/// A failed attempt reaches middleware as an exception thrown by <c>next</c>; rethrow it after observing it.
/// </summary>
public interface IJobMiddleware
{
    /// <summary>Runs around the rest of the pipeline: call <paramref name="next"/> to go on, or return without it to stop there.</summary>
    ValueTask InvokeAsync(JobContext context, JobDelegate next);
}
