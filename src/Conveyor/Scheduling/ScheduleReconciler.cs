using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.Scheduling;

/// <summary>
/// Writes the schedules defined in code and configuration into the store when a server starts. Every definition is
/// checked first (name, cron, time zone, job type with a handler here, duplicates): one bad definition stops the start
/// naming the schedule and the field, and nothing is written.
/// </summary>
/// <remarks>
/// The rule for what the store already holds: a defined schedule that is new is created (first tick after now); one
/// whose definition changed is replaced, keeping its pause state and history, and keeping its next tick unless the cron
/// expression or time zone changed; one that is unchanged is left alone (so ticks missed while no server ran are
/// seen as misfires). A schedule of origin code that no definition names any more is deleted. Schedules created at run
/// time are never touched unless code defines one of the same tenant and name, which takes it over.
/// </remarks>
internal static class ScheduleReconciler
{
    public const string ConfigurationSection = "Conveyor:Schedules";

    /// <summary>Every definition of code and configuration as a record, or an <see cref="OptionsValidationException"/> naming the first bad one.</summary>
    public static IReadOnlyList<ScheduleRecord> Validate(IServiceProvider services, IRegisteredJobTypes jobTypes, DateTimeOffset now)
    {
        var definitions = services.GetServices<ScheduleRegistration>().Select(r => r.Build(services)).ToList();
        var configured = services.GetService<IConfiguration>()?.GetSection(ConfigurationSection).Get<List<ScheduleDefinition>>();
        definitions.AddRange(configured ?? []);

        var known = jobTypes.JobTypes.ToHashSet(StringComparer.Ordinal);
        var payloads = services.GetService<IJobPayloadValidator>();
        var maxPayloadBytes = services.GetService<IOptions<ConveyorOptions>>()?.Value.MaxPayloadBytes ?? int.MaxValue;
        var records = new List<ScheduleRecord>(definitions.Count);
        var seen = new HashSet<(string, string)>();
        try
        {
            foreach (var definition in definitions)
            {
                var record = ScheduleValidator.ToRecord(definition, ScheduleOrigin.Code, now);
                if (!seen.Add((record.Tenant, record.Name)))
                {
                    throw new ScheduleDefinitionException(record.Name, nameof(ScheduleDefinition.Name),
                        $"is defined twice (in code or {ConfigurationSection}); schedule names are unique within a tenant.");
                }

                if (!known.Contains(record.JobType))
                {
                    throw new ScheduleDefinitionException(record.Name, nameof(ScheduleDefinition.JobType),
                        $"'{record.JobType}' has no handler in this server (register one with AddHandler).");
                }

                // As the Jobs API checks a schedule it creates: a payload that cannot fit would fail every job it makes.
                ScheduleValidator.EnsurePayloadFits(record, maxPayloadBytes);
                if (payloads?.Validate(record.JobType, record.Payload) is { } problem)
                {
                    throw new ScheduleDefinitionException(record.Name, nameof(ScheduleDefinition.Payload),
                        $"does not fit the payload type of the '{record.JobType}' handler: {problem.Path}: {problem.Message}");
                }

                records.Add(record);
            }
        }
        catch (ScheduleDefinitionException e)
        {
            throw new OptionsValidationException(ConfigurationSection, typeof(ScheduleDefinition), [$"{ConfigurationSection}: {e.Message}"]);
        }

        return records;
    }

    /// <summary>
    /// Brings the store's schedules of origin code in line with <paramref name="defined"/>. A schedule created or retimed
    /// here gets its first tick after <paramref name="now"/>, the time of this write: the definitions were checked at
    /// start, which may be seconds earlier (the store took that long to open), and a tick between the two would fire
    /// before the schedule existed.
    /// </summary>
    public static async Task ReconcileAsync(IScheduleStore store, IReadOnlyList<ScheduleRecord> defined, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        defined = [.. defined.Select(r => r.Paused ? r : r with { NextFireAt = CronSchedule.Parse(r.Name, r.Cron, r.TimeZone).Next(now) })];
        var existing = (await store.ListSchedulesAsync(null, cancellationToken).ConfigureAwait(false))
            .ToDictionary(static s => (s.Tenant, s.Name));
        int created = 0, changed = 0, deleted = 0;
        foreach (var record in defined)
        {
            existing.Remove((record.Tenant, record.Name), out var current);
            switch (await ReconcileAsync(store, record, current, now, cancellationToken).ConfigureAwait(false))
            {
                case Reconciled.Created:
                    created++;
                    break;
                case Reconciled.Changed:
                    changed++;
                    break;
            }
        }

        foreach (var stale in existing.Values.Where(static s => s.Origin == ScheduleOrigin.Code))
        {
            if (await store.DeleteScheduleAsync(stale.Tenant, stale.Name, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
                Log.ScheduleRemoved(logger, LogText.Escape(stale.Tenant), LogText.Escape(stale.Name));
            }
        }

        Log.SchedulesReconciled(logger, defined.Count, created, changed, deleted);
    }

    private enum Reconciled
    {
        Unchanged,
        Created,
        Changed,
    }

    /// <summary>
    /// Creates or replaces one code schedule. A replace applies only to the revision read, so an operator's pause (or
    /// a change, or a tick) written since the list is not undone: the schedule is read again and decided again, as is
    /// one another server created first.
    /// </summary>
    private static async Task<Reconciled> ReconcileAsync(IScheduleStore store, ScheduleRecord record, ScheduleRecord? current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (current is null)
            {
                if (await store.TryCreateScheduleAsync(record, cancellationToken).ConfigureAwait(false))
                {
                    return Reconciled.Created;
                }
            }
            else if (current.Origin == ScheduleOrigin.Code && ScheduleValidator.SameDefinition(current, record) && (current.Paused || current.NextFireAt is not null))
            {
                // Unchanged, unless a scheduler stopped it (no next tick, not paused): a job refused by one server's
                // settings (a lower Conveyor:MaxPayloadBytes) stops it in the store for every server, and this start's
                // checks passed.
                return Reconciled.Unchanged;
            }
            else
            {
                var retimed = current.Cron != record.Cron || current.TimeZone != record.TimeZone;
                var replacement = record with
                {
                    Paused = current.Paused,
                    NextFireAt = current.Paused ? null : retimed ? CronSchedule.Parse(record.Name, record.Cron, record.TimeZone).Next(now) : current.NextFireAt ?? record.NextFireAt,
                    Revision = current.Revision,
                };
                if (await store.TryReplaceScheduleAsync(replacement, cancellationToken).ConfigureAwait(false))
                {
                    return Reconciled.Changed;
                }
            }

            current = await store.GetScheduleAsync(record.Tenant, record.Name, cancellationToken).ConfigureAwait(false);
        }
    }
}
