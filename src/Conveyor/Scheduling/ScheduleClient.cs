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

    public Task<ScheduleRecord?> UpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default) =>
        UpdateAsync(definition, keepCodeSchedules: false, cancellationToken);

    /// <summary>
    /// The Jobs API's replace: as <see cref="UpdateAsync(ScheduleDefinition, CancellationToken)"/>, but a schedule defined
    /// in code is returned as it is, also one a server's start wrote between the caller's read and this write (the
    /// decision is made on the record the write applies to).
    /// </summary>
    internal Task<ScheduleRecord?> UpdateUnlessDefinedInCodeAsync(ScheduleDefinition definition, CancellationToken cancellationToken) =>
        UpdateAsync(definition, keepCodeSchedules: true, cancellationToken);

    private async Task<ScheduleRecord?> UpdateAsync(ScheduleDefinition definition, bool keepCodeSchedules, CancellationToken cancellationToken)
    {
        var record = Checked(ScheduleValidator.ToRecord(definition, ScheduleOrigin.Runtime, timeProvider.GetUtcNow()));
        return await ChangeAsync(record.Tenant, record.Name, existing =>
        {
            if (keepCodeSchedules && existing.Origin == ScheduleOrigin.Code)
            {
                return null;
            }

            var retimed = existing.Cron != record.Cron || existing.TimeZone != record.TimeZone;
            return record with
            {
                Paused = existing.Paused,
                Origin = existing.Origin,
                // The new cron's next tick, also for a definition that says paused (ignored on a replace: its record has none).
                NextFireAt = existing.Paused ? null
                    : retimed ? CronSchedule.Parse(record.Name, record.Cron, record.TimeZone).Next(timeProvider.GetUtcNow())
                    : existing.NextFireAt,
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A payload the client would refuse at every tick is refused now, as the Jobs API and the start refuse it.</summary>
    private ScheduleRecord Checked(ScheduleRecord record) => ScheduleValidator.EnsurePayloadFits(record, options.Value.MaxPayloadBytes);

    public async Task<bool> DeleteAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        await store.DeleteScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);

    public Task<ScheduleRecord?> PauseAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        ChangeAsync(tenant, name, static existing => existing.Paused ? null : existing with { Paused = true, NextFireAt = null }, cancellationToken);

    public Task<ScheduleRecord?> ResumeAsync(string tenant, string name, CancellationToken cancellationToken = default) =>
        ChangeAsync(tenant, name, existing => !existing.Paused ? null : existing with
        {
            Paused = false,
            NextFireAt = CronSchedule.Parse(existing.Name, existing.Cron, existing.TimeZone).Next(timeProvider.GetUtcNow()),
        }, cancellationToken);

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

    /// <summary>
    /// Reads the schedule and writes what <paramref name="change"/> makes of it (null: nothing to change), at the revision
    /// read: a pause, a change or a tick written between the two is not overwritten with what was read before it; the
    /// schedule is read and decided again. Each try lost is another write that landed: the loop ends once other writers pause.
    /// </summary>
    private async Task<ScheduleRecord?> ChangeAsync(string tenant, string name, Func<ScheduleRecord, ScheduleRecord?> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            var existing = await store.GetScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);
            if (existing is null || change(existing) is not { } replacement)
            {
                return existing;
            }

            if (await store.TryReplaceScheduleAsync(replacement with { Revision = existing.Revision }, cancellationToken).ConfigureAwait(false))
            {
                return await store.GetScheduleAsync(tenant, name, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
