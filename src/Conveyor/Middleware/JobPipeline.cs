using Conveyor.Handlers;

namespace Conveyor.Middleware;

/// <summary>
/// The middleware chain composed once at start: recovery → tracing → metrics → logging → the user's middleware in
/// registration order → the handler. The first in the list is the outermost.
/// </summary>
internal sealed class JobPipeline
{
    private readonly JobDelegate _entry;

    public JobPipeline(IReadOnlyList<IJobMiddleware> middleware, JobHandlerRegistry handlers)
    {
        JobDelegate next = context => handlers.TryGet(context.JobType, out var invoker)
            ? InvokeHandlerAsync(invoker, context)
            : ValueTask.FromException(new UnknownJobTypeException(context.JobType));

        for (var i = middleware.Count - 1; i >= 0; i--)
        {
            var current = middleware[i];
            var inner = next;
            next = context => current.InvokeAsync(context, inner);
        }

        _entry = next;
    }

    public ValueTask RunAsync(JobContext context) => _entry(context);

    private static async ValueTask InvokeHandlerAsync(JobInvoker invoker, JobContext context)
    {
        try
        {
            await invoker.InvokeAsync(context).ConfigureAwait(false);
        }
        catch (JobSuspendedException)
        {
            // Ending on a wait, the attempt parks only if every wait it started is in effect; decided here, where the
            // handler ends, so that every middleware sees the attempt end as the processor records it.
            await context.ThrowIfAWaitFailedAsync().ConfigureAwait(false);
            throw;
        }

        context.ThrowIfStoppedUnobserved();
    }
}
