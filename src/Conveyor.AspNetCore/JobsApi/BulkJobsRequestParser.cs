using System.Buffers;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Reads a <c>POST /jobs/bulk</c> body: <c>{"action": "retry"|"cancel"|"delete", "ids": [...], "tenant": ...}</c> or
/// <c>{"action": ..., "filter": {...}, "cursor": null|"...", "limit": 500}</c>. Every refusal names the field.
/// </summary>
internal static class BulkJobsRequestParser
{
    /// <summary>Jobs one call handles when the body gives no limit.</summary>
    public const int DefaultLimit = 500;

    /// <summary>The most ids, and the largest limit, of one call.</summary>
    public const int MaxJobs = IJobQueryStore.MaxBulkJobs;

    public static readonly string[] Actions = ["retry", "cancel", "delete"];

    private static readonly string[] Fields = ["action", "ids", "tenant", "filter", "cursor", "limit"];

    public static BulkJobsRequest? Parse(ReadOnlySequence<byte> body, ConveyorCaller caller, out ParseError? error) =>
        JsonRequest.Read(body, 16, Example, (JsonElement root, out ParseError? e) => Read(root, caller, out e), out error);

    private const string Example = "{\"action\": \"retry\", \"filter\": {\"status\": \"FAILED\"}}";

    private static BulkJobsRequest? Read(JsonElement root, ConveyorCaller caller, out ParseError? error)
    {
        if (!JsonRequest.CheckFields(root, "", Fields, "this request", out error))
        {
            return null;
        }

        if (!root.TryGetProperty("action", out var actionValue) || actionValue.ValueKind != JsonValueKind.String
            || Array.IndexOf(Actions, actionValue.GetString()) is var index && index < 0)
        {
            error = new ParseError("action", $"must be one of {string.Join(", ", Actions.Select(a => $"\"{a}\""))}; it is {(root.TryGetProperty("action", out var a) ? CreateJobRequestParser.DescribeValue(a) : "missing")}.");
            return null;
        }

        var action = index switch
        {
            0 => JobBulkAction.Requeue,
            1 => JobBulkAction.Cancel,
            _ => JobBulkAction.Delete,
        };
        var hasIds = root.TryGetProperty("ids", out var ids);
        var hasFilter = root.TryGetProperty("filter", out var filter);
        if (hasIds == hasFilter)
        {
            error = new ParseError(hasIds ? "filter" : "ids", "give either ids (the jobs to act on) or filter (act on every job that matches, a batch per call), not both and not neither.");
            return null;
        }

        return hasIds ? ParseIds(root, action, ids, caller, out error) : ParseFilter(root, action, filter, caller, out error);
    }

    private static BulkJobsRequest? ParseIds(JsonElement root, JobBulkAction action, JsonElement ids, ConveyorCaller caller, out ParseError? error)
    {
        error = null;
        foreach (var field in (string[])["cursor", "limit"])
        {
            if (root.TryGetProperty(field, out _))
            {
                error = new ParseError(field, "goes with filter, not with ids: a list of ids is done in one call.");
                return null;
            }
        }

        if (ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() is 0 or > MaxJobs)
        {
            error = new ParseError("ids", $"must be an array of 1 to {MaxJobs} job ids; it is {(ids.ValueKind == JsonValueKind.Array ? $"an array of {ids.GetArrayLength()}" : CreateJobRequestParser.Describe(ids.ValueKind))}.");
            return null;
        }

        var list = new List<string>(ids.GetArrayLength());
        foreach (var id in ids.EnumerateArray())
        {
            if (id.ValueKind != JsonValueKind.String || !JobId.IsValid(id.GetString()))
            {
                error = new ParseError($"ids[{list.Count}]", $"{CreateJobRequestParser.DescribeValue(id)} is not a job id: 1 to {JobId.MaxLength} letters, digits, '_', '-', ':' or '.'.");
                return null;
            }

            list.Add(id.GetString()!);
        }

        // matched counts the jobs found: an id listed again is the same job, acted on once.
        list = [.. list.Distinct(StringComparer.Ordinal)];

        var scope = new JobQuery { Tenant = caller.Tenant };
        if (JsonRequest.TryGetOptional(root, "tenant", out var tenant))
        {
            if (tenant.ValueKind != JsonValueKind.String)
            {
                error = new ParseError("tenant", $"must be a string (a tenant, or \"*\" for any); it is {CreateJobRequestParser.Describe(tenant.ValueKind)}.");
                return null;
            }

            if (!JobFilterParser.TryApply("tenant", tenant.GetString()!, caller, ref scope, out error))
            {
                return null;
            }
        }

        return new BulkJobsRequest(action, list, scope.Tenant, null);
    }

    private static BulkJobsRequest? ParseFilter(JsonElement root, JobBulkAction action, JsonElement filter, ConveyorCaller caller, out ParseError? error)
    {
        error = null;
        if (root.TryGetProperty("tenant", out _))
        {
            error = new ParseError("tenant", "goes inside filter when a filter is given (\"filter\": {\"tenant\": ...}).");
            return null;
        }

        if (filter.ValueKind != JsonValueKind.Object)
        {
            error = new ParseError("filter", $"must be an object of filters ({string.Join(", ", JobFilterParser.Names)}); it is {CreateJobRequestParser.Describe(filter.ValueKind)}.");
            return null;
        }

        var query = new JobQuery { Tenant = caller.Tenant, Limit = DefaultLimit };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in filter.EnumerateObject())
        {
            var field = "filter." + property.Name;
            if (!seen.Add(property.Name))
            {
                error = new ParseError(field, "appears more than once.");
                return null;
            }

            if (!JobFilterParser.Names.Contains(property.Name, StringComparer.Ordinal))
            {
                error = new ParseError(field, $"is not a filter; the filters are: {string.Join(", ", JobFilterParser.Names)}.");
                return null;
            }

            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.String)
            {
                error = new ParseError(field, $"must be a string or null; it is {CreateJobRequestParser.Describe(property.Value.ValueKind)}.");
                return null;
            }

            if (!JobFilterParser.TryApply(property.Name, property.Value.GetString()!, caller, ref query, out var filterError))
            {
                error = filterError! with { Field = field };
                return null;
            }
        }

        if (JobFilterParser.CheckRange(query) is { } rangeError)
        {
            error = rangeError with { Field = "filter." + rangeError.Field };
            return null;
        }

        if (JsonRequest.TryGetOptional(root, "cursor", out var cursor))
        {
            if (cursor.ValueKind != JsonValueKind.String || !JobCursor.TryDecode(cursor.GetString(), out _))
            {
                error = new ParseError("cursor", "must be null (the first batch) or the next_cursor of the previous call.");
                return null;
            }

            query = query with { Cursor = cursor.GetString() };
        }

        if (JsonRequest.TryGetOptional(root, "limit", out var limit))
        {
            if (!JsonWholeNumber.TryGet(limit, out int n) || n < 1 || n > MaxJobs)
            {
                error = new ParseError("limit", $"must be a whole number from 1 to {MaxJobs} (jobs this call handles); it is {CreateJobRequestParser.DescribeValue(limit)}.");
                return null;
            }

            query = query with { Limit = n };
        }

        return new BulkJobsRequest(action, null, null, query);
    }
}
