using Conveyor.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Bounds how long a Jobs API endpoint waits for the store (<see cref="ConveyorApiOptions.StoreTimeout"/>): the request's
/// cancellation token the endpoint was given is cancelled after it, and the cancellation is answered as a 503 with
/// Retry-After, as an unreachable store is. A store that is frozen rather than down (a stopped VM, a partition that drops
/// packets) otherwise holds the request until the client library's own timeouts, a minute for PostgreSQL's defaults,
/// past most load balancers' patience.
/// </summary>
internal sealed partial class StoreTimeoutEndpointFilter(IOptions<ConveyorApiOptions> options, IJobStore store, ILogger<StoreTimeoutEndpointFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        // Filters may replace arguments: each endpoint takes the request's token as a CancellationToken parameter.
        CancellationTokenSource? deadline = null;
        for (var i = 0; i < context.Arguments.Count; i++)
        {
            if (context.Arguments[i] is CancellationToken token)
            {
                deadline ??= CancellationTokenSource.CreateLinkedTokenSource(token);
                context.Arguments[i] = deadline.Token;
            }
        }

        if (deadline is null)
        {
            return await next(context).ConfigureAwait(false);
        }

        using (deadline)
        {
            var timeout = options.Value.StoreTimeout;
            deadline.CancelAfter(timeout);
            var http = context.HttpContext;
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
            {
                LogStoreTimedOut(logger, store.Name, http.Request.Method, http.Request.Path, timeout.TotalSeconds);
                http.Response.Headers.RetryAfter = "1";
                return ApiProblems.StoreTimedOut(store.Name, timeout);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "{method} {path}: the {store} store did not answer within {seconds} s (Conveyor:Api:StoreTimeout); answered 503.")]
    private static partial void LogStoreTimedOut(ILogger logger, string store, string method, string path, double seconds);
}
