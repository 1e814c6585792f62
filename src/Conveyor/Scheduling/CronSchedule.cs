using System.Collections.Concurrent;
using Cronos;

namespace Conveyor.Scheduling;

/// <summary>
/// A cron expression in a time zone (Cronos): the ticks of a schedule. Cronos's rules across daylight-saving changes
/// are the schedule's: a tick in the hour skipped when clocks go forward fires once, at the first instant after the
/// gap; a tick in the hour repeated when clocks go back fires once, at its first occurrence, unless the expression's
/// second, minute or hour field is an interval or wildcard (<c>*</c>, <c>*/15</c>, <c>0-59</c>, or <c>@hourly</c>), whose ticks
/// fire in both occurrences of the hour.
/// </summary>
internal sealed class CronSchedule
{
    /// <summary>
    /// Parsed expressions kept for reuse. Bounded, because the HTTP API parses whatever callers send: past the bound an
    /// expression is parsed at each use instead of being kept.
    /// </summary>
    private const int MaxCached = 10_000;

    private static readonly ConcurrentDictionary<(string Cron, string TimeZone), CronSchedule> Cache = new();

    /// <summary>The ids of the host's zone list by any letter case, each to its own spelling.</summary>
    private static readonly Lazy<Dictionary<string, string>> ListedZones = new(static () =>
        TimeZoneInfo.GetSystemTimeZones().ToDictionary(static z => z.Id, static z => z.Id, StringComparer.OrdinalIgnoreCase));

    private readonly CronExpression _expression;
    private readonly TimeZoneInfo _zone;

    private CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        _expression = expression;
        _zone = zone;
    }

    /// <summary>The expression's ticks, parsed once per process; throws <see cref="ScheduleDefinitionException"/> for bad input.</summary>
    public static CronSchedule Parse(string scheduleName, string cron, string timeZone)
    {
        if (Cache.TryGetValue((cron, timeZone), out var cached))
        {
            return cached;
        }

        var schedule = new CronSchedule(ParseExpression(scheduleName, cron), FindZone(scheduleName, timeZone));
        if (Cache.Count < MaxCached)
        {
            Cache.TryAdd((cron, timeZone), schedule);
        }

        return schedule;
    }

    /// <summary>The first tick strictly after <paramref name="after"/>, or null when the expression has none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => _expression.GetNextOccurrence(after, _zone, inclusive: false);

    private static CronExpression ParseExpression(string scheduleName, string? cron)
    {
        var text = cron?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.Cron), "is required (5 or 6 fields, or a macro such as @daily).");
        }

        var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        var format = text.StartsWith('@') || fields == 5 ? CronFormat.Standard
            : fields == 6 ? CronFormat.IncludeSeconds
            : throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.Cron),
                $"'{text}' has {fields} fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (seconds first), or is a macro such as @daily.");
        try
        {
            return CronExpression.Parse(text, format);
        }
        catch (CronFormatException e)
        {
            throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.Cron), $"'{text}' is not a valid cron expression: {e.Message}");
        }
        catch (MissingSeedException)
        {
            // Cronos's H (a value hashed from a seed) would need a seed per schedule, kept stable across servers.
            throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.Cron), $"'{text}' uses H (a hashed value), which is not supported: write the value.");
        }
    }

    /// <summary>
    /// <paramref name="timeZone"/> as the time zone database spells it, which is what a schedule stores: a zone of the
    /// host's list (UTC and every zone of the database's zone table) in any letter case, or any other id of the
    /// database (a link such as US/Eastern or Etc/UTC) exactly as spelled. The host finds an id in another case only
    /// once it has read the zone under its own spelling, so a miscased link is refused, never taken on one server and
    /// refused on the next. Throws <see cref="ScheduleDefinitionException"/> for an id that is not a zone.
    /// </summary>
    public static string ZoneSpelling(string scheduleName, string? timeZone)
    {
        if (!string.IsNullOrWhiteSpace(timeZone) && IsZoneName(timeZone) && ListedZones.Value.TryGetValue(timeZone, out var listed))
        {
            return listed;
        }

        var zone = FindZone(scheduleName, timeZone);
        return string.Equals(zone.Id, timeZone, StringComparison.Ordinal)
            ? zone.Id
            : throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.TimeZone),
                $"'{timeZone}' is not a known time zone id: the time zone database spells it '{zone.Id}'.");
    }

    private static TimeZoneInfo FindZone(string scheduleName, string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(timeZone))
        {
            throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.TimeZone), "is required (an IANA id such as UTC or Europe/Berlin).");
        }

        // The host lists every zone it has read, links too: the list is taken before this process reads any, so that
        // what ZoneSpelling takes in another letter case does not depend on the schedules read before.
        _ = ListedZones.Value;
        try
        {
            return IsZoneName(timeZone)
                ? TimeZoneInfo.FindSystemTimeZoneById(timeZone)
                : throw new TimeZoneNotFoundException();
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException
            or System.Security.SecurityException or UnauthorizedAccessException or IOException)
        {
            // A name that is a folder of the time zone database ('Europe', 'posix') is found but cannot be read as a zone.
            throw new ScheduleDefinitionException(scheduleName, nameof(ScheduleDefinition.TimeZone), $"'{timeZone}' is not a known time zone id (use an IANA id such as UTC or Europe/Berlin).");
        }
    }

    /// <summary>
    /// The host resolves an id as a path under its time zone folder, so 'Europe//Berlin' and './UTC' find a zone, and
    /// 'localtime' finds whatever this machine is set to, which another server may not share ('posix/' and 'right/' are
    /// copies of the database that some hosts lack, 'right/' with leap seconds). Only names as the time
    /// zone database spells them are taken, so every server reads one zone the same way.
    /// </summary>
    private static bool IsZoneName(string id) =>
        id is not ("localtime" or "posixrules" or "Factory")
        && !id.StartsWith("posix/", StringComparison.Ordinal) && !id.StartsWith("right/", StringComparison.Ordinal)
        && !id.StartsWith('/') && !id.EndsWith('/')
        && !id.Contains("//", StringComparison.Ordinal)
        && !id.Split('/').Any(static part => part is "." or ".." || part.StartsWith(' ') || part.EndsWith(' '));
}
