using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Conveyor.Serialization;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Reads a <c>POST /jobs</c> body field by field so that every refusal names the field and the reason, and nothing
/// unknown slips through (a misspelt option is an error, not a silent default).
/// </summary>
internal static class CreateJobRequestParser
{
    public const int MaxRetryLimit = 1000;
    public const int MaxUniqueKeyLength = 256;

    /// <summary>Smallest timeout_seconds and unique_for_seconds: one millisecond.</summary>
    public const double MinPositiveSeconds = 0.001;

    /// <summary>Largest value of every *_seconds field: ten years.</summary>
    public const double MaxSeconds = 3650 * 86400;

    /// <summary>The fields a body may have, for the error message about an unknown one.</summary>
    public static readonly string[] Fields =
    [
        "type", "payload", "queue", "max_retry", "timeout_seconds", "deadline", "process_at", "process_in_seconds",
        "unique_key", "unique_for_seconds", "retention_seconds",
    ];

    /// <summary>
    /// The fields only a <c>POST /jobs</c> body has: the jobs it waits for and what it does when one does not succeed. A
    /// job of a batch or a workflow step has not: a workflow says what a step runs after on the step itself.
    /// </summary>
    public static readonly string[] ContinuationFields = [JobDependenciesParser.Field, DependencyFailurePolicy.Field];

    /// <summary>The nesting depth a body may have: a payload may nest 63 levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>Parses the body; on failure <paramref name="error"/> holds the field and the reason.</summary>
    public static CreateJobRequest? Parse(ReadOnlySequence<byte> body, DateTimeOffset now, out ParseError? error) =>
        JsonRequest.Read(
            body,
            MaxDepth,
            "{\"type\": \"note:archive\", \"payload\": {\"note_id\": 42}}",
            (JsonElement root, out ParseError? e) => ParseObject(root, now, continuation: true, out e),
            out error);

    /// <summary>
    /// Reads a job as <c>POST /jobs</c> takes it from a JSON value (a body's root, or a job inside a batch or workflow);
    /// "body" is the field of a refusal of the value itself. With <paramref name="continuation"/> (a <c>POST /jobs</c>
    /// body) the job may also wait for existing jobs (<see cref="ContinuationFields"/>).
    /// </summary>
    public static CreateJobRequest? ParseObject(JsonElement root, DateTimeOffset now, bool continuation, out ParseError? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new ParseError("body", $"must be a JSON object such as {{\"type\": \"note:archive\", \"payload\": {{\"note_id\": 42}}}}; it is {Describe(root.ValueKind)}.");
            return null;
        }

        string? type = null;
        ReadOnlyMemory<byte> payload = "{}"u8.ToArray();
        var options = new JobOptions();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            var value = property.Value;
            if (!seen.Add(name))
            {
                error = new ParseError(name, "appears more than once.");
                return null;
            }

            if (value.ValueKind == JsonValueKind.Null && IsOptional(name, continuation))
            {
                // As every optional field of the API: null is the field left out.
                continue;
            }

            try
            {
                if (!TryApply(name, value, now, continuation, ref type, ref payload, ref options, out error))
                {
                    return null;
                }
            }
            catch (InvalidOperationException)
            {
                // A string with a lone UTF-16 surrogate escape (\ud800) parses as JSON but is not text.
                error = new ParseError(Shorten(name), "contains an invalid \\u escape (a lone UTF-16 surrogate).");
                return null;
            }
        }

        if (options.After is null && JsonRequest.TryGetOptional(root, DependencyFailurePolicy.Field, out _))
        {
            error = new ParseError(DependencyFailurePolicy.Field, "goes with after: it says what this job does when a job it waits for does not succeed, and this job waits for none.");
            return null;
        }

        return Finish(type, payload, options, now, out error);
    }

    /// <summary>A field of this job that may be left out (so may be null): any but type; after and its policy only with <paramref name="continuation"/>.</summary>
    private static bool IsOptional(string name, bool continuation) =>
        name != "type" && (Fields.Contains(name) || (continuation && ContinuationFields.Contains(name)));

    private static bool TryApply(string name, JsonElement value, DateTimeOffset now, bool continuation, ref string? type, ref ReadOnlyMemory<byte> payload, ref JobOptions options, out ParseError? error)
    {
        error = null;
        {
            switch (name)
            {
                case "type":
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        error = new ParseError(name, $"must be a string such as \"note:archive\"; it is {Describe(value.ValueKind)}.");
                        return false;
                    }

                    type = value.GetString();
                    break;
                case "payload":
                    if (value.ValueKind != JsonValueKind.Null)
                    {
                        payload = Compact(value);
                    }

                    break;
                case "queue":
                    if (!TryGetString(value, name, out var queue, out error))
                    {
                        return false;
                    }

                    if (!QueueName.IsValid(queue))
                    {
                        error = new ParseError(name, $"'{Shorten(queue)}' is not a queue name: use 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
                        return false;
                    }

                    if (DotSegments.IsDotName(queue))
                    {
                        error = new ParseError(name, DotSegments.DotNameReason(queue));
                        return false;
                    }

                    options = options with { Queue = queue };
                    break;
                case "max_retry":
                    if (!JsonWholeNumber.TryGet(value, out long maxRetry))
                    {
                        error = new ParseError(name, $"must be a whole number from 0 to {MaxRetryLimit}; it is {DescribeValue(value)}.");
                        return false;
                    }

                    if (maxRetry is < 0 or > MaxRetryLimit)
                    {
                        error = new ParseError(name, $"{maxRetry} is out of range: use 0 to {MaxRetryLimit}.");
                        return false;
                    }

                    options = options with { MaxRetry = (int)maxRetry };
                    break;
                case "timeout_seconds":
                    if (!TryGetSeconds(value, name, positive: true, out var timeout, out error))
                    {
                        return false;
                    }

                    options = options with { Timeout = timeout };
                    break;
                case "deadline":
                    if (!TryGetTimestamp(value, name, out var deadline, out error))
                    {
                        return false;
                    }

                    if (deadline <= now)
                    {
                        error = new ParseError(name, $"{Rfc3339.Format(deadline)} has already passed.");
                        return false;
                    }

                    options = options with { Deadline = deadline };
                    break;
                case "process_at":
                    if (!TryGetTimestamp(value, name, out var processAt, out error))
                    {
                        return false;
                    }

                    options = options with { ProcessAt = processAt };
                    break;
                case "process_in_seconds":
                    if (!TryGetSeconds(value, name, positive: false, out var processIn, out error))
                    {
                        return false;
                    }

                    options = options with { ProcessIn = processIn };
                    break;
                case "unique_key":
                    if (!TryGetString(value, name, out var uniqueKey, out error))
                    {
                        return false;
                    }

                    if (TextLength.Of(uniqueKey) is 0 or > MaxUniqueKeyLength)
                    {
                        error = new ParseError(name, $"must be 1 to {MaxUniqueKeyLength} characters.");
                        return false;
                    }

                    if (uniqueKey.Contains('\0', StringComparison.Ordinal))
                    {
                        // PostgreSQL's text cannot hold it; refused on every store, so a key means the same on each.
                        error = new ParseError(name, "must not contain the character U+0000.");
                        return false;
                    }

                    options = options with { UniqueKey = uniqueKey };
                    break;
                case "unique_for_seconds":
                    if (!TryGetSeconds(value, name, positive: true, out var uniqueFor, out error))
                    {
                        return false;
                    }

                    options = options with { UniqueFor = uniqueFor };
                    break;
                case "retention_seconds":
                    if (!TryGetSeconds(value, name, positive: false, out var retention, out error))
                    {
                        return false;
                    }

                    options = options with { Retention = retention };
                    break;
                case JobDependenciesParser.Field when continuation:
                    if (!JobDependenciesParser.TryRead(value, out var after, out error))
                    {
                        return false;
                    }

                    options = options with { After = after.Count == 0 ? null : after };
                    break;
                case DependencyFailurePolicy.Field when continuation:
                    if (!DependencyFailurePolicy.TryRead(value, name, out var condition, out error))
                    {
                        return false;
                    }

                    options = options with { AfterCondition = condition };
                    break;
                case JobDependenciesParser.Field or DependencyFailurePolicy.Field:
                    error = new ParseError(name, "is taken by POST /jobs alone: a job of a batch waits for none, and a workflow step says what it runs after beside its job (\"after\": [step names]).");
                    return false;
                default:
                    error = new ParseError(Shorten(name), $"is not a known field; a job has: {string.Join(", ", continuation ? [.. Fields, .. ContinuationFields] : Fields)}.");
                    return false;
            }
        }

        return true;
    }

    private static CreateJobRequest? Finish(string? type, ReadOnlyMemory<byte> payload, JobOptions options, DateTimeOffset now, out ParseError? error)
    {
        error = null;
        if (type is null)
        {
            error = new ParseError("type", "is required: the job type, e.g. \"note:archive\".");
            return null;
        }

        if (type.Length == 0)
        {
            error = new ParseError("type", "must not be empty: give the job type, e.g. \"note:archive\".");
            return null;
        }

        if (!JobType.IsValid(type))
        {
            error = new ParseError("type", $"'{Shorten(type)}' is not of the form '{{domain}}:{{action}}' (lowercase letters, digits, '_', '-', '.'; at most {JobType.MaxLength} characters), e.g. \"note:archive\".");
            return null;
        }

        if (options.UniqueKey is not null && options.UniqueFor is null)
        {
            error = new ParseError("unique_for_seconds", "is required with unique_key: how long the key holds.");
            return null;
        }

        if (options.UniqueFor is not null && options.UniqueKey is null)
        {
            error = new ParseError("unique_key", "is required with unique_for_seconds.");
            return null;
        }

        if (options.ProcessAt is not null && options.ProcessIn is not null)
        {
            error = new ParseError("process_in_seconds", "cannot be given with process_at: give one of them.");
            return null;
        }

        if (options.Deadline is { } deadline && (options.ProcessAt ?? now + options.ProcessIn) is { } runAt && runAt > deadline)
        {
            error = new ParseError(
                options.ProcessAt is null ? "process_in_seconds" : "process_at",
                $"the job would wait until {Rfc3339.Format(runAt)}, after its deadline {Rfc3339.Format(deadline)}: it could never run.");
            return null;
        }

        return new CreateJobRequest(type, payload, options);
    }

    /// <summary>
    /// The body field and reason of a refusal by the client's own option checks, whose messages read
    /// "JobOptions.{Option}: {reason}."; "body" for any other message.
    /// </summary>
    public static (string Field, string Reason) FieldOf(ArgumentException e)
    {
        const string prefix = "JobOptions.";
        var message = e.Message;
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        if (message.StartsWith(prefix, StringComparison.Ordinal) && colon > prefix.Length
            && OptionFields.TryGetValue(message[prefix.Length..colon], out var field))
        {
            var end = message.IndexOf(" (Parameter", StringComparison.Ordinal);
            return (field, message[(colon + 2)..(end < 0 ? message.Length : end)]);
        }

        // The rest of the store's message, without .NET's parameter suffix, which names no field of the request.
        var suffix = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return ("body", suffix < 0 ? message : message[..suffix]);
    }

    private static readonly Dictionary<string, string> OptionFields = new(StringComparer.Ordinal)
    {
        [nameof(JobOptions.Queue)] = "queue",
        [nameof(JobOptions.MaxRetry)] = "max_retry",
        [nameof(JobOptions.Timeout)] = "timeout_seconds",
        [nameof(JobOptions.Deadline)] = "deadline",
        [nameof(JobOptions.ProcessAt)] = "process_at",
        [nameof(JobOptions.ProcessIn)] = "process_in_seconds",
        [nameof(JobOptions.UniqueKey)] = "unique_key",
        [nameof(JobOptions.UniqueFor)] = "unique_for_seconds",
        [nameof(JobOptions.Retention)] = "retention_seconds",
        [nameof(JobOptions.After)] = JobDependenciesParser.Field,
        [nameof(JobOptions.AfterCondition)] = DependencyFailurePolicy.Field,
    };

    internal static ReadOnlyMemory<byte> Compact(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            value.WriteTo(writer);
        }

        return buffer.WrittenMemory;
    }

    private static bool TryGetString(JsonElement value, string name, out string text, out ParseError? error)
    {
        error = null;
        text = "";
        if (value.ValueKind != JsonValueKind.String)
        {
            error = new ParseError(name, $"must be a string; it is {Describe(value.ValueKind)}.");
            return false;
        }

        text = value.GetString()!;
        return true;
    }

    internal static bool TryGetSeconds(JsonElement value, string name, bool positive, out TimeSpan duration, out ParseError? error)
    {
        error = null;
        duration = default;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || !double.IsFinite(seconds))
        {
            error = new ParseError(name, $"must be a number of seconds; it is {DescribeValue(value)}.");
            return false;
        }

        // The bounds are checked on the number as sent, before it becomes a TimeSpan, so that a value too small to
        // be a duration (1e-8 s is 0 ticks) is refused here, by name, and never reaches the client's own checks.
        var minimum = positive ? MinPositiveSeconds : 0;
        if (seconds < minimum)
        {
            error = new ParseError(name, positive
                ? $"must be at least {MinPositiveSeconds.ToString(CultureInfo.InvariantCulture)} (one millisecond); it is {DescribeValue(value)}."
                : $"must not be negative; it is {DescribeValue(value)}.");
            return false;
        }

        if (seconds > MaxSeconds)
        {
            error = new ParseError(name, $"must be at most {MaxSeconds.ToString(CultureInfo.InvariantCulture)} (ten years); it is {DescribeValue(value)}.");
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    private static bool TryGetTimestamp(JsonElement value, string name, out DateTimeOffset timestamp, out ParseError? error)
    {
        error = null;
        timestamp = default;
        if (value.ValueKind != JsonValueKind.String || !Rfc3339.TryParse(value.GetString(), out timestamp))
        {
            error = value.ValueKind == JsonValueKind.String && Rfc3339.IsFormedButOutOfRange(value.GetString())
                ? new ParseError(name, $"{DescribeValue(value)} {Rfc3339.OutOfRange}.")
                : new ParseError(name, $"must be an RFC 3339 timestamp such as \"2030-01-31T09:30:00Z\"; it is {DescribeValue(value)}.");
            return false;
        }

        return true;
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    internal static string DescribeValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Shorten(value.GetRawText()),
        JsonValueKind.Number => Shorten(value.GetRawText()),
        _ => Describe(value.ValueKind),
    };

    internal static string Shorten(string text) => JsonDuplicateNames.Shorten(text);

    internal static string TrimMessage(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }
}
