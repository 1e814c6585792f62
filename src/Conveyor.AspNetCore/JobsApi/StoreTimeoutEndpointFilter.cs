using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Bounds how long a Jobs API request waits for the store (<see cref="ConveyorApiOptions.StoreTimeout"/>): the endpoint's
/// cancellation token fires at that time, and a request it ends is answered 503 with Retry-After rather than held for
/// the store client's own timeouts (a frozen PostgreSQL server held requests for a minute: Npgsql's 15-s connection
/// timeout and 30-s command timeout). The endpoint is still awaited to its end, so that nothing it does outlives the
/// request: a store that ignores its token holds the request until its own timeout, as before. The time the request's
/// body takes to arrive does not count (<see cref="StoreWait"/>).
/// </summary>
internal sealed partial class StoreTimeoutEndpointFilter(IOptions<ConveyorApiOptions> options, IJobStore store, TimeProvider timeProvider, ConveyorMetrics metrics, ILogger<StoreTimeoutEndpointFilter> logger) : IEndpointFilter
{
    private readonly TimeSpan _timeout = options.Value.StoreTimeout;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var aborted = http.RequestAborted;
        using var wait = new StoreWait(aborted, _timeout, timeProvider, bodyFirst: http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true);

        // Endpoints take their token as an argument, bound before the filters run; the arguments are the filters' to change.
        for (var i = 0; i < context.Arguments.Count; i++)
        {
            if (context.Arguments[i] is CancellationToken)
            {
                context.Arguments[i] = wait.Token;
            }
        }

        http.RequestAborted = wait.Token;
        http.Features.Set(wait);
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (wait.Expired && !aborted.IsCancellationRequested
            && e is OperationCanceledException or JobStoreUnavailableException)
        {
            LogTimedOut(logger, http.Request.Method, http.Request.Path, store.Name, _timeout.TotalSeconds);
            metrics.StoreUnavailable(StoreOperations.Api);
            http.Response.Headers.RetryAfter = "1";
            return ApiProblems.StoreTimedOut(store.Name, _timeout, http.Request.Method);
        }
        finally
        {
            http.Features.Set<StoreWait>(null);
            http.RequestAborted = aborted;
        }
    }

    [LoggerMessage(1002, LogLevel.Warning, "{method} {path}: the {store} store did not answer within {seconds} s (Conveyor:Api:StoreTimeout); answered 503.")]
    private static partial void LogTimedOut(ILogger logger, string method, string path, string store, double seconds);
}
