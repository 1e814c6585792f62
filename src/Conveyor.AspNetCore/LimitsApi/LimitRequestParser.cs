using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.LimitsApi;

/// <summary>
/// Reads a <c>PUT /limits/{kind}/{name}</c> body field by field into a limit record (source API), so that every refusal
/// names the field and the reason and nothing unknown slips through: <c>queue</c>, <c>job_type</c>, <c>partition</c>
/// and <c>max</c> for a concurrency limit; <c>limit</c>, <c>period_seconds</c> and <c>burst</c> instead of <c>max</c>
/// for a rate limit. The result passes the same checks as <c>Conveyor:Limits</c> at a server's start.
/// </summary>
internal static class LimitRequestParser
{
    public static readonly string[] ConcurrencyFields = ["queue", "job_type", "partition", "max"];
    public static readonly string[] RateFields = ["queue", "job_type", "partition", "limit", "period_seconds", "burst"];

    /// <summary>The shortest and longest period accepted, in seconds (as <c>Conveyor:Limits:Rate:…:Period</c>).</summary>
    public const double MinPeriodSeconds = 0.001;
    public const double MaxPeriodSeconds = 86_400;

    public static LimitRecord? Parse(byte[] body, LimitKind kind, string name, out ParseError? error) =>
        JsonRequest.Read(
            new ReadOnlySequence<byte>(body), 16, Example(kind), (JsonElement root, out ParseError? e) => Read(root, kind, name, out e), out error);

    private static LimitRecord? Read(JsonElement root, LimitKind kind, string name, out ParseError? error)
    {
        error = null;
        var fields = kind == LimitKind.Concurrency ? ConcurrencyFields : RateFields;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? queue = null;
        string? jobType = null;
        var perTenant = false;
        int? number = null;
        TimeSpan? period = null;
        var burst = 1;
        foreach (var property in root.EnumerateObject())
        {
            var field = property.Name;
            var value = property.Value;
            if (!seen.Add(field))
            {
                error = new ParseError(CreateJobRequestParser.Shorten(field), "appears more than once.");
                return null;
            }

            if (value.ValueKind == JsonValueKind.Null && fields.Contains(field) && !IsRequired(field))
            {
                // As every optional field of the API: null is the field left out.
                continue;
            }

            switch (field)
            {
                case "queue":
                    if (value.ValueKind != JsonValueKind.String || !QueueName.IsValid(value.GetString()))
                    {
                        error = new ParseError(field, $"must be the queue the limit applies to: 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'; got {CreateJobRequestParser.DescribeValue(value)}.");
                        return null;
                    }

                    if (DotSegments.IsDotName(value.GetString()))
                    {
                        error = new ParseError(field, DotSegments.DotNameReason(value.GetString()!));
                        return null;
                    }

                    queue = value.GetString();
                    break;
                case "job_type":
                    if (value.ValueKind != JsonValueKind.String || !JobType.IsValid(value.GetString()))
                    {
                        error = new ParseError(field, $"must be a job type ('domain:action', lowercase, at most {JobType.MaxLength} characters) or null for every type of the queue; got {CreateJobRequestParser.DescribeValue(value)}.");
                        return null;
                    }

                    jobType = value.GetString();
                    break;
                case "partition":
                    switch (value.ValueKind == JsonValueKind.String ? value.GetString() : null)
                    {
                        case "none":
                            perTenant = false;
                            break;
                        case "tenant":
                            perTenant = true;
                            break;
                        default:
                            error = new ParseError(field, $"must be 'none' (one count for every job the limit matches) or 'tenant' (one count per tenant); got {CreateJobRequestParser.DescribeValue(value)}.");
                            return null;
                    }

                    break;
                case "max" when kind == LimitKind.Concurrency:
                    if (!TryGetWhole(value, field, 1, ConcurrencyLimit.MaxValue, out var max, out error))
                    {
                        return null;
                    }

                    number = max;
                    break;
                case "limit" when kind == LimitKind.Rate:
                    if (!TryGetWhole(value, field, 1, RateLimit.MaxLimit, out var limit, out error))
                    {
                        return null;
                    }

                    number = limit;
                    break;
                case "burst" when kind == LimitKind.Rate:
                    // Its range depends on limit, which may come later in the body: checked once both are read.
                    if (!TryGetWhole(value, field, int.MinValue, int.MaxValue, out burst, out error))
                    {
                        return null;
                    }

                    break;
                case "period_seconds" when kind == LimitKind.Rate:
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || !(seconds >= MinPeriodSeconds && seconds <= MaxPeriodSeconds))
                    {
                        error = new ParseError(field, string.Create(CultureInfo.InvariantCulture, $"must be the period the limit counts over, in seconds, from {MinPeriodSeconds} to {MaxPeriodSeconds}; got {CreateJobRequestParser.DescribeValue(value)}."));
                        return null;
                    }

                    period = TimeSpan.FromMicroseconds(Math.Round(seconds * 1_000_000));
                    break;
                default:
                    error = new ParseError(CreateJobRequestParser.Shorten(field), $"is not a field of a {LimitResponseMapper.KindName(kind)} limit; the fields are {string.Join(", ", fields)}.");
                    return null;
            }
        }

        if (queue is null)
        {
            error = new ParseError("queue", $"is required: the queue the limit applies to, e.g. {Example(kind)}.");
            return null;
        }

        if (number is null)
        {
            error = kind == LimitKind.Concurrency
                ? new ParseError("max", "is required: the jobs running at once (per tenant when partition is 'tenant').")
                : new ParseError("limit", "is required: the jobs started per period_seconds (per tenant when partition is 'tenant').");
            return null;
        }

        if (kind == LimitKind.Rate && period is null)
        {
            error = new ParseError("period_seconds", "is required: the period the limit counts over, in seconds, e.g. 1.");
            return null;
        }

        if (kind == LimitKind.Rate && (burst < 1 || burst > number))
        {
            error = new ParseError("burst", string.Create(CultureInfo.InvariantCulture, $"must be a whole number from 1 to limit ({number}); got {burst}."));
            return null;
        }

        return new LimitRecord
        {
            Kind = kind,
            Name = name,
            Queue = queue,
            JobType = jobType,
            PerTenant = perTenant,
            Limit = number.Value,
            Period = period ?? TimeSpan.Zero,
            Burst = kind == LimitKind.Rate ? burst : 0,
            Source = LimitSource.Api,
        };
    }

    /// <summary>The fields a body of its kind must have; the others (job_type, partition, burst) may be left out or null.</summary>
    private static bool IsRequired(string field) => field is "queue" or "max" or "limit" or "period_seconds";

    private static bool TryGetWhole(JsonElement value, string field, int min, int max, out int number, out ParseError? error)
    {
        error = null;
        if (JsonWholeNumber.TryGet(value, out number) && number >= min && number <= max)
        {
            return true;
        }

        number = 0;
        error = new ParseError(field, string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {min} to {max}; got {CreateJobRequestParser.DescribeValue(value)}."));
        return false;
    }

    private static string Example(LimitKind kind) => kind == LimitKind.Concurrency
        ? "{\"queue\": \"imports\", \"partition\": \"tenant\", \"max\": 1}"
        : "{\"queue\": \"partner\", \"limit\": 10, \"period_seconds\": 1}";
}
