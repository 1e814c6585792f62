using Conveyor.Storage;
using Microsoft.Extensions.Options;

namespace Conveyor.Scheduling;

/// <summary>The run-time schedule operations on the store; see <see cref="IScheduleClient"/>.</summary>
internal sealed class ScheduleClient(IJobStore store, IJobClient jobs, IOptions<ConveyorOptions> options, TimeProvider timeProvider) : IScheduleClient
{
    public async Task<IReadOnlyList<ScheduleRecord>> ListAsync(string? tenant, CancellationToken cancellationToken = default) =>
        await store.ListSchedulesAsync(tenant, cancellationToken).ConfigureAwait(false);

    public async Task<ScheduleRecord?> GetAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        await store.GetScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);

    public async Task<ScheduleRecord?> CreateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default)
    {
        var record = Checked(ScheduleValidator.ToRecord(definition, ScheduleOrigin.Runtime, timeProvider.GetUtcNow()));
        return await store.TryCreateScheduleAsync(record, cancellationToken).ConfigureAwait(false)
            ? await store.GetScheduleAsync(record.Tenant, record.Name, cancellationToken).ConfigureAwait(false)
            : null;
    }

    public async Task<ScheduleRecord?> UpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default)
    {
        var now = timeProvider.GetUtcNow();
        var record = Checked(ScheduleValidator.ToRecord(definition, ScheduleOrigin.Runtime, now));
        var existing = await store.GetScheduleAsync(record.Tenant, record.Name, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return null;
        }

        var retimed = existing.Cron != record.Cron || existing.TimeZone != record.TimeZone;
        var replacement = record with
        {
            Paused = existing.Paused,
            Origin = existing.Origin,
            // The new cron's next tick, also for a definition that says paused (ignored on a replace: its record has none).
            NextFireAt = existing.Paused ? null : retimed ? CronSchedule.Parse(record.Name, record.Cron, record.TimeZone).Next(now) : existing.NextFireAt,
        };
        return await ReplaceAsync(replacement, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A payload the client would refuse at every tick is refused now, as the Jobs API and the start refuse it.</summary>
    private ScheduleRecord Checked(ScheduleRecord record) => ScheduleValidator.EnsurePayloadFits(record, options.Value.MaxPayloadBytes);

    public async Task<bool> DeleteAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        await store.DeleteScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);

    public async Task<ScheduleRecord?> PauseAsync(string tenant, string name, CancellationToken cancellationToken = default)
    {
        var existing = await store.GetScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        return existing is null ? null
            : existing.Paused ? existing
            : await ReplaceAsync(existing with { Paused = true, NextFireAt = null }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ScheduleRecord?> ResumeAsync(string tenant, string name, CancellationToken cancellationToken = default)
    {
        var existing = await store.GetScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        if (existing is null || !existing.Paused)
        {
            return existing;
        }

        var next = CronSchedule.Parse(existing.Name, existing.Cron, existing.TimeZone).Next(timeProvider.GetUtcNow());
        return await ReplaceAsync(existing with { Paused = false, NextFireAt = next }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<EnqueueResult?> TriggerAsync(string tenant, string name, CancellationToken cancellationToken = default)
    {
        var schedule = await store.GetScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        if (schedule is null)
        {
            return null;
        }

        var result = await jobs.EnqueueAsync(schedule.JobType, schedule.Payload, new JobOptions
        {
            Tenant = schedule.Tenant,
            Queue = schedule.Queue,
            MaxRetry = schedule.MaxRetry,
            Timeout = schedule.Timeout,
        }, cancellationToken).ConfigureAwait(false);

        // The schedule's last job is this one; its ticks are untouched. Lost to a concurrent tick, the tick's job wins.
        await store.TryRecordScheduleFireAsync(new ScheduleFire
        {
            Tenant = tenant,
            Name = name,
            ExpectedNextFireAt = schedule.NextFireAt,
            NextFireAt = schedule.NextFireAt,
            LastFireAt = timeProvider.GetUtcNow(),
            LastJobId = result.JobId,
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public IReadOnlyList<DateTimeOffset> NextTicks(ScheduleRecord schedule, int count)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var ticks = new List<DateTimeOffset>(Math.Max(0, count));
        if (schedule.NextFireAt is not { } next || count <= 0)
        {
            return ticks;
        }

        var cron = CronSchedule.Parse(schedule.Name, schedule.Cron, schedule.TimeZone);
        for (DateTimeOffset? tick = next; tick is { } t && ticks.Count < count; tick = cron.Next(t))
        {
            ticks.Add(t);
        }

        return ticks;
    }

    private async Task<ScheduleRecord?> ReplaceAsync(ScheduleRecord record, CancellationToken cancellationToken) =>
        await store.TryReplaceScheduleAsync(record, cancellationToken).ConfigureAwait(false)
            ? await store.GetScheduleAsync(record.Tenant, record.Name, cancellationToken).ConfigureAwait(false)
            : null;
}
