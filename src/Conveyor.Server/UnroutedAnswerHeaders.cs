using Conveyor.AspNetCore.JobsApi;
using Microsoft.Net.Http.Headers;

namespace Conveyor.Server;

/// <summary>
/// Every path of this server is Conveyor's: an answer no endpoint marked (routing's own 404 for a path no route matches,
/// such as a raw '/' inside a job id, and its 405 for a method a path's routes do not take) carries the Jobs API's
/// <c>Cache-Control: no-store</c> and <c>X-Content-Type-Options: nosniff</c> too, as docs/jobs-api.md promises for every
/// answer. An endpoint that chose its own caching (the dashboard's assets) keeps it.
/// </summary>
internal static class UnroutedAnswerHeaders
{
    public static void UseUnroutedAnswerHeaders(this WebApplication app) => app.Use(static (http, next) =>
    {
        http.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            if (!response.Headers.ContainsKey(HeaderNames.CacheControl))
            {
                NoStoreEndpointFilter.Mark(response);
            }

            return Task.CompletedTask;
        }, http.Response);
        return next(http);
    });
}
