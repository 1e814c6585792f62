using System.Diagnostics;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>From the store's records to the API's shapes (status names of seed 004, RFC 3339 UTC timestamps).</summary>
internal static class JobResponseMapper
{
    /// <summary>A job as <c>GET /jobs/{id}</c> shows it: with its payload and its errors' stack traces.</summary>
    public static JobResponse ToResponse(JobInfo job) => ToResponse(job, summary: false);

    /// <summary>
    /// A job as a listing shows it, and as cancel, retry and signal answer with it: without its payload and its errors'
    /// stack traces, which GET /jobs/{id} shows. A command's answer says what the command did to the job; a job retried
    /// many times would otherwise carry its 20 errors' frames (up to 8,192 characters each) back with every click.
    /// </summary>
    public static JobResponse ToSummaryResponse(JobInfo job) => ToResponse(job, summary: true);

    private static JobResponse ToResponse(JobInfo job, bool summary) => new()
    {
        JobId = job.Id,
        Type = job.Type,
        Queue = job.Queue,
        Tenant = job.Tenant,
        Status = job.State.ToApiStatus(),
        Progress = job.Progress,
        Payload = summary ? null : new RawJson(job.Payload),
        ResultUrl = job.ResultUrl,
        Result = job.Result is { } result ? new RawJson(result) : null,
        Errors = job.Errors.Select(e => new JobErrorResponse(e.Attempt, e.Message, e.ExceptionType, e.Item, Rfc3339.Format(e.OccurredAt)) { StackTrace = summary ? null : e.StackTrace, InSummary = summary }).ToList(),
        Attempts = job.Attempts,
        BatchId = job.BatchId,
        DependsOn = job.DependsOn.Count == 0 ? [] : job.DependsOn.Select(static d => d.Id).ToList(),
        MaxRetry = job.MaxRetry,
        CancelRequested = job.CancelRequested,
        // Why a job waits means nothing once it has ended (a parked job cancelled keeps it in the store).
        SnoozedReason = job.State.IsFinished() ? null : job.SnoozeReason,
        TraceId = ActivityContext.TryParse(job.TraceParent, null, out var trace) ? trace.TraceId.ToHexString() : null,
        CreatedAt = Rfc3339.Format(job.CreatedAt),
        UpdatedAt = Rfc3339.Format(job.UpdatedAt),
        ScheduledAt = Rfc3339.Format(job.ScheduledAt),
        StartedAt = Rfc3339.Format(job.StartedAt),
        CompletedAt = Rfc3339.Format(job.CompletedAt),
    };

    public static QueueResponse ToResponse(QueueStats stats, int servers, DateTimeOffset now, IReadOnlyList<LimitRecord>? limits = null) => new()
    {
        Limits = limits?.Where(l => string.Equals(l.Queue, stats.Queue, StringComparison.Ordinal)).Select(LimitsApi.LimitResponseMapper.ToResponse).ToList() ?? [],
        Servers = servers,
        Name = stats.Queue,
        Paused = stats.Paused,
        Scheduled = stats.Scheduled,
        Queued = stats.Pending,
        Running = stats.Active,
        Retrying = stats.Retrying,
        Waiting = stats.Waiting,
        Success = stats.Succeeded,
        PartialSuccess = stats.Partial,
        Failed = stats.Failed,
        Cancelled = stats.Cancelled,
        LatencySeconds = stats.OldestPendingSince is { } since ? Math.Max(0, (now - since).TotalSeconds) : 0,
    };
}
