using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.Scheduling;

namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>
/// Reads a <c>POST /schedules</c> or <c>PUT /schedules/{name}</c> body field by field into a definition, so that every
/// refusal names the field and the reason and nothing unknown slips through. The cron expression, the time zone and
/// the job type are checked afterwards by <see cref="ScheduleValidator"/> and the job type catalog.
/// </summary>
internal static partial class ScheduleRequestParser
{
    /// <summary>Longest cron expression accepted (the longest sensible one is far shorter).</summary>
    public const int MaxCronLength = 200;

    /// <summary>Longest time zone id accepted (the longest IANA id is about 30 characters).</summary>
    public const int MaxTimeZoneLength = 64;

    /// <summary>
    /// A time zone id's shape, checked before the system looks it up: spaces only between other characters (a Windows id
    /// such as "Pacific Standard Time"), so a blank id is refused by its shape, as the OpenAPI document says.
    /// </summary>
    public const string TimeZonePattern = "^[A-Za-z0-9_+/-]([A-Za-z0-9_+/ -]{0,62}[A-Za-z0-9_+/-])?$";

    /// <summary>The fields a body may have, for the error message about an unknown one.</summary>
    public static readonly string[] Fields =
    [
        "name", "cron", "time_zone", "job_type", "payload", "queue", "max_retry", "timeout_seconds", "misfire", "overlap", "paused",
    ];

    /// <summary>The nesting depth a body may have (as <c>POST /jobs</c>: a payload may nest 63 levels).</summary>
    public const int MaxDepth = CreateJobRequestParser.MaxDepth;

    /// <summary>
    /// Parses the body. <paramref name="pathName"/> is the name in the URL of a PUT (the body may repeat it, not change
    /// it); null for a POST, whose body must name the schedule. On failure <paramref name="error"/> holds the field and
    /// the reason.
    /// </summary>
    public static ScheduleDefinition? Parse(ReadOnlySequence<byte> body, string? pathName, out ParseError? error) =>
        JsonRequest.Read(
            body,
            MaxDepth,
            "{\"name\": \"report:nightly\", \"cron\": \"0 2 * * *\", \"job_type\": \"report:generate\"}",
            (JsonElement root, out ParseError? e) => Read(root, pathName, out e),
            out error);

    private static ScheduleDefinition? Read(JsonElement root, string? pathName, out ParseError? error)
    {
        error = null;
        var definition = new ScheduleDefinition { Name = pathName ?? string.Empty };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var named = false;
        foreach (var property in root.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                error = new ParseError("body", "contains an invalid \\u escape (a lone UTF-16 surrogate).");
                return null;
            }

            if (!seen.Add(name))
            {
                error = new ParseError(CreateJobRequestParser.Shorten(name), "appears more than once.");
                return null;
            }

            if (property.Value.ValueKind == JsonValueKind.Null && Fields.Contains(name) && !IsRequired(name, pathName))
            {
                // As every optional field of the API: null is the field left out (a replace's default, as when absent).
                continue;
            }

            try
            {
                if (!TryApply(name, property.Value, pathName, definition, out error))
                {
                    return null;
                }
            }
            catch (InvalidOperationException)
            {
                // A string with a lone UTF-16 surrogate escape (\ud800) parses as JSON but is not text.
                error = new ParseError(CreateJobRequestParser.Shorten(name), "contains an invalid \\u escape (a lone UTF-16 surrogate).");
                return null;
            }

            named |= name == "name";
        }

        if (!named && pathName is null)
        {
            error = new ParseError("name", "is required: the schedule's name, unique in the tenant, e.g. \"report:nightly\".");
            return null;
        }

        return Finish(definition, out error);
    }

    /// <summary>The fields a body must have: cron and job_type, and name in a POST (a PUT's URL names the schedule).</summary>
    private static bool IsRequired(string name, string? pathName) => name is "cron" or "job_type" || (name == "name" && pathName is null);

    /// <summary>The body field a <see cref="ScheduleDefinitionException"/> is about.</summary>
    public static string FieldOf(ScheduleDefinitionException e) => e.Field switch
    {
        nameof(ScheduleDefinition.Name) => "name",
        nameof(ScheduleDefinition.Cron) => "cron",
        nameof(ScheduleDefinition.TimeZone) => "time_zone",
        nameof(ScheduleDefinition.JobType) => "job_type",
        nameof(ScheduleDefinition.Payload) => "payload",
        nameof(ScheduleDefinition.Queue) => "queue",
        nameof(ScheduleDefinition.MaxRetry) => "max_retry",
        nameof(ScheduleDefinition.Timeout) => "timeout_seconds",
        nameof(ScheduleDefinition.Misfire) => "misfire",
        nameof(ScheduleDefinition.Overlap) => "overlap",
        _ => "body",
    };

    private static bool TryApply(string name, JsonElement value, string? pathName, ScheduleDefinition definition, out ParseError? error)
    {
        error = null;
        switch (name)
        {
            case "name":
                if (!TryGetString(value, name, out var scheduleName, out error))
                {
                    return false;
                }

                if (pathName is not null && !string.Equals(scheduleName, pathName, StringComparison.Ordinal))
                {
                    error = new ParseError(name, $"'{CreateJobRequestParser.Shorten(scheduleName)}' differs from the name in the URL, '{pathName}'; a schedule cannot be renamed (create the new one, delete the old).");
                    return false;
                }

                if (!ScheduleValidator.IsValidName(scheduleName))
                {
                    error = new ParseError(name, InvalidName(scheduleName));
                    return false;
                }

                if (DotSegments.IsDotName(scheduleName))
                {
                    error = new ParseError(name, DotSegments.DotNameReason(scheduleName));
                    return false;
                }

                definition.Name = scheduleName;
                return true;
            case "cron":
                if (!TryGetString(value, name, out var cron, out error))
                {
                    return false;
                }

                if (cron.Length > MaxCronLength || cron.Any(char.IsControl))
                {
                    error = new ParseError(name, $"is not a cron expression: at most {MaxCronLength} printable characters, 5 or 6 fields or a macro such as @daily.");
                    return false;
                }

                definition.Cron = cron;
                return true;
            case "time_zone":
                if (!TryGetString(value, name, out var zone, out error))
                {
                    return false;
                }

                if (!TimeZoneShape().IsMatch(zone) || zone.Contains("..", StringComparison.Ordinal))
                {
                    error = new ParseError(name, $"'{CreateJobRequestParser.Shorten(zone)}' is not a time zone id: use an IANA id such as UTC or Europe/Berlin.");
                    return false;
                }

                definition.TimeZone = zone;
                return true;
            case "job_type":
                if (!TryGetString(value, name, out var jobType, out error))
                {
                    return false;
                }

                definition.JobType = jobType;
                return true;
            case "payload":
                if (value.ValueKind != JsonValueKind.Null)
                {
                    definition.Payload = Encoding.UTF8.GetString(CreateJobRequestParser.Compact(value).Span);
                }

                return true;
            case "queue":
                if (!TryGetString(value, name, out var queue, out error))
                {
                    return false;
                }

                if (!QueueName.IsValid(queue))
                {
                    error = new ParseError(name, $"'{CreateJobRequestParser.Shorten(queue)}' is not a queue name: use 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
                    return false;
                }

                if (DotSegments.IsDotName(queue))
                {
                    error = new ParseError(name, DotSegments.DotNameReason(queue));
                    return false;
                }

                definition.Queue = queue;
                return true;
            case "max_retry":
                if (!JsonWholeNumber.TryGet(value, out long maxRetry))
                {
                    error = new ParseError(name, $"must be a whole number from 0 to {CreateJobRequestParser.MaxRetryLimit}; it is {CreateJobRequestParser.DescribeValue(value)}.");
                    return false;
                }

                if (maxRetry is < 0 or > CreateJobRequestParser.MaxRetryLimit)
                {
                    error = new ParseError(name, $"{maxRetry} is out of range: use 0 to {CreateJobRequestParser.MaxRetryLimit}.");
                    return false;
                }

                definition.MaxRetry = (int)maxRetry;
                return true;
            case "timeout_seconds":
                if (!CreateJobRequestParser.TryGetSeconds(value, name, positive: true, out var timeout, out error))
                {
                    return false;
                }

                definition.Timeout = timeout;
                return true;
            case "misfire":
                if (!TryGetString(value, name, out var misfire, out error))
                {
                    return false;
                }

                if (!SchedulePolicyNames.TryParseMisfire(misfire, out var misfirePolicy))
                {
                    error = new ParseError(name, $"'{CreateJobRequestParser.Shorten(misfire)}' is not a misfire policy; use one of {string.Join(", ", SchedulePolicyNames.Misfires)}.");
                    return false;
                }

                definition.Misfire = misfirePolicy;
                return true;
            case "overlap":
                if (!TryGetString(value, name, out var overlap, out error))
                {
                    return false;
                }

                if (!SchedulePolicyNames.TryParseOverlap(overlap, out var overlapPolicy))
                {
                    error = new ParseError(name, $"'{CreateJobRequestParser.Shorten(overlap)}' is not an overlap policy; use one of {string.Join(", ", SchedulePolicyNames.Overlaps)}.");
                    return false;
                }

                definition.Overlap = overlapPolicy;
                return true;
            case "paused":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    error = new ParseError(name, $"must be true or false; it is {CreateJobRequestParser.DescribeValue(value)}.");
                    return false;
                }

                definition.Paused = value.GetBoolean();
                return true;
            default:
                error = new ParseError(CreateJobRequestParser.Shorten(name), $"is not a known field; a schedule has: {string.Join(", ", Fields)}.");
                return false;
        }
    }

    private static ScheduleDefinition? Finish(ScheduleDefinition definition, out ParseError? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(definition.Cron))
        {
            error = new ParseError("cron", "is required: 5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or a macro such as @daily.");
            return null;
        }

        if (string.IsNullOrEmpty(definition.JobType))
        {
            error = new ParseError("job_type", "is required: the job type every tick enqueues, e.g. \"report:generate\".");
            return null;
        }

        if (!JobType.IsValid(definition.JobType))
        {
            error = new ParseError("job_type", $"'{CreateJobRequestParser.Shorten(definition.JobType)}' is not of the form '{{domain}}:{{action}}' (lowercase letters, digits, '_', '-', '.'; at most {JobType.MaxLength} characters).");
            return null;
        }

        return definition;
    }

    /// <summary>Why <paramref name="name"/> is not a schedule name.</summary>
    public static string InvalidName(string name) =>
        $"'{CreateJobRequestParser.Shorten(name)}' is not a schedule name: 1 to {ScheduleValidator.MaxNameLength} letters, digits, '_', '-', ':' or '.'.";

    private static bool TryGetString(JsonElement value, string name, out string text, out ParseError? error)
    {
        error = null;
        text = "";
        if (value.ValueKind != JsonValueKind.String)
        {
            error = new ParseError(name, $"must be a string; it is {CreateJobRequestParser.Describe(value.ValueKind)}.");
            return false;
        }

        text = value.GetString()!;
        return true;
    }

    [GeneratedRegex(TimeZonePattern, RegexOptions.CultureInvariant)]
    private static partial Regex TimeZoneShape();
}
