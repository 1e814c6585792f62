using System.Text;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.Scheduling;

/// <summary>Checks a definition field by field and turns it into a store record; the first problem throws <see cref="ScheduleDefinitionException"/>.</summary>
internal static class ScheduleValidator
{
    /// <summary>Longest schedule name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>
    /// <paramref name="record"/>, unless its payload is over <paramref name="maxPayloadBytes"/>: the client would refuse its
    /// job at every tick (the Jobs API checks the same when it creates one).
    /// </summary>
    public static ScheduleRecord EnsurePayloadFits(ScheduleRecord record, int maxPayloadBytes) => record.Payload.Length <= maxPayloadBytes
        ? record
        : throw new ScheduleDefinitionException(record.Name, nameof(ScheduleDefinition.Payload),
            $"is {record.Payload.Length} bytes; the limit (Conveyor:MaxPayloadBytes) is {maxPayloadBytes}.");

    /// <summary>The record of a valid definition, with its next tick after <paramref name="now"/> (none while paused).</summary>
    public static ScheduleRecord ToRecord(ScheduleDefinition definition, ScheduleOrigin origin, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var name = definition.Name ?? string.Empty;
        if (!IsValidName(name))
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Name),
                $"'{name}' is not a valid name: 1 to {MaxNameLength} letters, digits, '_', '-', ':' and '.'.");
        }

        var timeZone = CronSchedule.ZoneSpelling(name, definition.TimeZone);
        var cron = CronSchedule.Parse(name, definition.Cron, timeZone);
        if (!JobType.IsValid(definition.JobType))
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.JobType),
                string.IsNullOrEmpty(definition.JobType) ? "is required." : $"'{definition.JobType}' is not a valid job type ({{domain}}:{{action}}).");
        }

        if (!TenantId.IsValid(definition.Tenant))
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Tenant), TenantId.Problem(definition.Tenant));
        }

        if (definition.Queue is { } queue && !QueueName.IsConfigurable(queue))
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Queue), $"'{queue}' is not a valid queue name ({QueueName.ConfigurableRule}).");
        }

        if (definition.MaxRetry is < 0 or > 1000)
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.MaxRetry), $"{definition.MaxRetry} is outside 0-1000.");
        }

        if (definition.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Timeout), "must be positive.");
        }

        if (!Enum.IsDefined(definition.Misfire))
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Misfire), $"'{definition.Misfire}' is not one of once, skip, all.");
        }

        if (!Enum.IsDefined(definition.Overlap))
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Overlap), $"'{definition.Overlap}' is not one of allow, skip_while_unfinished.");
        }

        var payload = Encoding.UTF8.GetBytes(string.IsNullOrWhiteSpace(definition.Payload) ? "{}" : definition.Payload);
        try
        {
            using var _ = JsonDocument.Parse(payload);
        }
        catch (JsonException e)
        {
            throw new ScheduleDefinitionException(name, nameof(ScheduleDefinition.Payload), $"is not valid JSON: {e.Message}");
        }

        return new ScheduleRecord
        {
            Tenant = definition.Tenant,
            Name = name,
            Cron = definition.Cron.Trim(),
            TimeZone = timeZone,
            JobType = definition.JobType,
            Payload = payload,
            Queue = definition.Queue,
            MaxRetry = definition.MaxRetry,
            Timeout = definition.Timeout,
            Misfire = definition.Misfire,
            Overlap = definition.Overlap,
            Paused = definition.Paused,
            Origin = origin,
            NextFireAt = definition.Paused ? null : cron.Next(now),
        };
    }

    public static bool IsValidName(string? name) => name is { Length: > 0 and <= MaxNameLength } && JobId.IsValid(name);

    /// <summary>True when the two records define the same schedule (state, history and origin aside).</summary>
    public static bool SameDefinition(ScheduleRecord a, ScheduleRecord b) =>
        a.Cron == b.Cron && a.TimeZone == b.TimeZone && a.JobType == b.JobType && a.Payload.Span.SequenceEqual(b.Payload.Span)
        && a.Queue == b.Queue && a.MaxRetry == b.MaxRetry && a.Timeout == b.Timeout && a.Misfire == b.Misfire && a.Overlap == b.Overlap;
}
