using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.AspNetCore.SchedulesApi.Contracts;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>Store records to the API's schedule contract: the next ticks computed, the last job's status read from the store.</summary>
internal static class ScheduleResponseMapper
{
    /// <summary>How many of its next ticks a schedule shows.</summary>
    public const int NextFireTimesShown = 5;

    public static async Task<ScheduleResponse> ToResponseAsync(ScheduleRecord schedule, IScheduleClient schedules, IJobStore store, CancellationToken cancellationToken)
    {
        var lastJob = schedule.LastJobId is { } jobId
            ? await store.GetAsync(schedule.Tenant, jobId, cancellationToken).ConfigureAwait(false)
            : null;
        return ToResponse(schedule, NextTicks(schedule, schedules), lastJob?.State);
    }

    public static ScheduleResponse ToResponse(ScheduleRecord schedule, IReadOnlyList<DateTimeOffset> nextTicks, JobState? lastJobState) => new()
    {
        Name = schedule.Name,
        Tenant = schedule.Tenant,
        Cron = schedule.Cron,
        TimeZone = schedule.TimeZone,
        JobType = schedule.JobType,
        Payload = new RawJson(schedule.Payload),
        Queue = schedule.Queue ?? QueueName.Default,
        MaxRetry = schedule.MaxRetry,
        TimeoutSeconds = schedule.Timeout?.TotalSeconds,
        Misfire = SchedulePolicyNames.ToApi(schedule.Misfire),
        Overlap = SchedulePolicyNames.ToApi(schedule.Overlap),
        Paused = schedule.Paused,
        NextFireTimes = nextTicks.Select(Rfc3339.Format).ToList(),
        LastFireAt = Rfc3339.Format(schedule.LastFireAt),
        LastJobId = schedule.LastJobId,
        LastJobStatus = lastJobState?.ToApiStatus(),
        Source = SchedulePolicyNames.ToApi(schedule.Origin),
        CreatedAt = Rfc3339.Format(schedule.CreatedAt),
        UpdatedAt = Rfc3339.Format(schedule.UpdatedAt),
    };

    private static IReadOnlyList<DateTimeOffset> NextTicks(ScheduleRecord schedule, IScheduleClient schedules)
    {
        try
        {
            return schedules.NextTicks(schedule, NextFireTimesShown);
        }
        catch (ScheduleDefinitionException)
        {
            // A schedule written by a server whose system knows a time zone this one does not: shown, without ticks.
            return [];
        }
    }
}
