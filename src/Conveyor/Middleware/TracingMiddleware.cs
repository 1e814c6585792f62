using System.Diagnostics;
using Conveyor.Diagnostics;

namespace Conveyor.Middleware;

/// <summary>
/// A consumer span per attempt (<c>process {queue}</c>, OpenTelemetry messaging conventions:
/// https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/): a child of the job's creation context,
/// stored at enqueue (see <see cref="EnqueueTracing"/>), and linked to it as the conventions ask, so a backend that
/// starts a new trace per consumer span still finds the enqueue.
/// </summary>
internal sealed class TracingMiddleware : IJobMiddleware
{
    public async ValueTask InvokeAsync(JobContext context, JobDelegate next)
    {
        if (!ConveyorActivitySource.Source.HasListeners())
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var linked = ActivityContext.TryParse(context.Job.TraceParent, null, out var creation);
        using var activity = ConveyorActivitySource.Source.StartActivity(
            ActivityKind.Consumer,
            creation,
            links: linked ? [new ActivityLink(creation)] : null,
            name: "process " + context.Queue);
        context.TraceId = activity?.TraceId.ToHexString();
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "conveyor");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", context.Queue);
            activity.SetTag("messaging.message.id", context.JobId);
            activity.SetTag("conveyor.job.type", context.JobType);
            activity.SetTag("conveyor.job.attempt", context.Attempt);
            activity.SetTag("conveyor.tenant", context.Tenant);
        }

        try
        {
            await next(context).ConfigureAwait(false);
            activity?.SetStatus(ActivityStatusCode.Ok);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            activity?.AddException(e);
            throw;
        }
    }
}
