using Conveyor.AspNetCore;
using Conveyor.AspNetCore.JobsApi;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Middleware of Conveyor's HTTP endpoints for an application's request pipeline.</summary>
public static class ConveyorApplicationBuilderExtensions
{
    /// <summary>
    /// Answers a request whose path holds a <c>.</c> or <c>..</c> segment (also as <c>%2E</c>) with a 400 problem, the
    /// same one the Jobs API's endpoints give, whatever route the path would match. The server removes such segments
    /// before routing, so without this <c>DELETE /jobs/.</c> or <c>PUT /schedules/..</c> reaches another route, or none
    /// (405, 404), and never the Jobs API's check. Add it before <c>UseRouting</c> when every path of the application
    /// is Conveyor's, as the Conveyor server does; the endpoints of <c>MapConveyorApi</c> refuse such paths without it.
    /// </summary>
    public static IApplicationBuilder UseConveyorDotSegmentCheck(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(static (http, next) =>
        {
            if (!DotSegments.InRequestTarget(http))
            {
                return next(http);
            }

            NoStoreEndpointFilter.Mark(http.Response);
            return ApiProblems.DotSegment().ExecuteAsync(http);
        });
    }
}
