using System.Diagnostics;
using Conveyor.Storage;

namespace Conveyor.Diagnostics;

/// <summary>
/// The producer side of a job's trace, after the OpenTelemetry messaging conventions
/// (https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/): every job carries a creation context of
/// its own, made in the trace of the code that created it, and the span of the store write links to each of them.
/// <list type="bullet">
/// <item>One job stored at once (<c>EnqueueAsync</c>): a <c>send {queue}</c> producer span is the creation context.</item>
/// <item>A job built by <c>CreateJob</c> (for <c>EnqueueManyAsync</c>, the HTTP batcher, a transactional enqueue):
/// a <c>create {queue}</c> producer span, started and ended when the job is built, is its creation context; the batch's
/// <c>send</c> span (a client span, in the trace of whoever stores the batch) links to every job's creation context.</item>
/// </list>
/// The worker's <c>process {queue}</c> span is a child of the job's creation context and links to it.
/// </summary>
internal static class EnqueueTracing
{
    /// <summary>The single-job send span, whose context is stored with the job.</summary>
    public static Activity? StartPublish(NewJob job)
    {
        if (!ConveyorActivitySource.Source.HasListeners())
        {
            return null;
        }

        var activity = ConveyorActivitySource.Source.StartActivity("send " + job.Queue, ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            SetCommonTags(activity, "send", job.Queue);
            SetMessageTags(activity, job);
        }

        return activity;
    }

    /// <summary>Records the creation span of a job built now, in the current trace; its context, or null without one.</summary>
    public static string? RecordCreation(NewJob job) => RecordCreation(job.Id, job.Type, job.Queue);

    /// <summary>Records the creation span of a job to be built later with this id (fire-and-forget); its context, or null.</summary>
    public static string? RecordCreation(string jobId, string jobType, string queue)
    {
        if (!ConveyorActivitySource.Source.HasListeners())
        {
            return null;
        }

        using var activity = ConveyorActivitySource.Source.StartActivity("create " + queue, ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            SetCommonTags(activity, "create", queue);
            SetMessageTags(activity, jobId, jobType);
        }

        return activity?.Id;
    }

    /// <summary>
    /// The span of a batch write, linked to every job's creation context. It is a producer span (and becomes the
    /// creation context) only for jobs that carry none, as jobs built without <c>CreateJob</c> may.
    /// </summary>
    public static Activity? StartBatchPublish(IReadOnlyList<NewJob> jobs)
    {
        if (!ConveyorActivitySource.Source.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>(jobs.Count);
        var queue = jobs[0].Queue;
        var oneQueue = true;
        var everyJobHasContext = true;
        foreach (var job in jobs)
        {
            oneQueue &= job.Queue == queue;
            if (ActivityContext.TryParse(job.TraceParent, null, out var creation))
            {
                links.Add(new ActivityLink(creation));
            }
            else
            {
                everyJobHasContext &= job.TraceParent is not null;
            }
        }

        var activity = ConveyorActivitySource.Source.StartActivity(
            oneQueue ? "send " + queue : "send",
            everyJobHasContext ? ActivityKind.Client : ActivityKind.Producer,
            parentContext: default,
            links: links);
        if (activity is { IsAllDataRequested: true })
        {
            SetCommonTags(activity, "send", oneQueue ? queue : null);
            activity.SetTag("messaging.batch.message_count", jobs.Count);
        }

        return activity;
    }

    /// <summary>
    /// The jobs, each without a creation context given the batch span's (<paramref name="send"/>), so that its
    /// processing still links somewhere; the same list when there is no span or every job has a context.
    /// </summary>
    public static IReadOnlyList<NewJob> WithBatchContext(Activity? send, IReadOnlyList<NewJob> jobs) =>
        send is not null && jobs.Any(static j => j.TraceParent is null)
            ? jobs.Select(j => j.TraceParent is null ? j with { TraceParent = send.Id } : j).ToList()
            : jobs;

    private static void SetCommonTags(Activity activity, string operation, string? queue)
    {
        activity.SetTag("messaging.system", "conveyor");
        activity.SetTag("messaging.operation.type", operation);
        if (queue is not null)
        {
            activity.SetTag("messaging.destination.name", queue);
        }
    }

    private static void SetMessageTags(Activity activity, NewJob job) => SetMessageTags(activity, job.Id, job.Type);

    private static void SetMessageTags(Activity activity, string jobId, string jobType)
    {
        activity.SetTag("messaging.message.id", jobId);
        activity.SetTag("conveyor.job.type", jobType);
    }
}
