using Conveyor.Storage;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The job filters that <c>GET /jobs</c> takes as query parameters and <c>POST /jobs/bulk</c> as its <c>filter</c>
/// object, with the same names and rules: status, type, queue, error, created_after, created_before, batch_id and tenant.
/// </summary>
internal static class JobFilterParser
{
    /// <summary>The filter names, in the order the documents list them.</summary>
    public static readonly string[] Names = ["status", "type", "queue", "error", "created_after", "created_before", "batch_id", "tenant"];

    /// <summary>The value of <c>tenant</c> that means every tenant (admin keys only).</summary>
    public const string EveryTenant = "*";

    private static readonly string Statuses = string.Join(", ", Enum.GetValues<JobState>().Select(s => s.ToApiStatus()));

    /// <summary>Applies one filter to the query; false with the error for a bad value or a tenant the key may not read.</summary>
    public static bool TryApply(string name, string value, ConveyorCaller caller, ref JobQuery query, out ParseError? error)
    {
        error = null;
        switch (name)
        {
            case "status":
                // Case-sensitive, as the document's enum and every other enum of the API: "failed" is refused, not read as FAILED.
                if (!JobStateExtensions.TryParseApiStatus(value, out var state) || !string.Equals(state.ToApiStatus(), value, StringComparison.Ordinal))
                {
                    error = new ParseError(name, $"'{Shorten(value)}' is not a status; use one of {Statuses}.");
                    return false;
                }

                query = query with { State = state };
                return true;
            case "type":
                if (!JobType.IsValid(value))
                {
                    error = new ParseError(name, $"'{Shorten(value)}' is not a job type of the form '{{domain}}:{{action}}'.");
                    return false;
                }

                query = query with { Type = value };
                return true;
            case "queue":
                if (!QueueName.IsValid(value))
                {
                    error = new ParseError(name, $"'{Shorten(value)}' is not a queue name: 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
                    return false;
                }

                query = query with { Queue = value };
                return true;
            case "error":
                if (TextLength.Of(value) is 0 or > JobQuery.MaxErrorFilterLength)
                {
                    error = new ParseError(name, $"must be 1 to {JobQuery.MaxErrorFilterLength} characters of the last error's message; it is {TextLength.Of(value)}.");
                    return false;
                }

                // A NUL ends a text in SQLite (the filter matched every job) and PostgreSQL refuses one: no message is
                // searched for control characters.
                if (value.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0 || value.Contains('\u007f', StringComparison.Ordinal))
                {
                    error = new ParseError(name, "must not hold control characters (U+0000 to U+001F, U+007F).");
                    return false;
                }

                query = query with { ErrorContains = value };
                return true;
            case "created_after" or "created_before":
                if (!Rfc3339.TryParse(value, out var instant))
                {
                    error = new ParseError(name, Rfc3339.IsFormedButOutOfRange(value)
                        ? $"'{Shorten(value)}' {Rfc3339.OutOfRange}."
                        : $"'{Shorten(value)}' is not an RFC 3339 date-time such as 2026-11-22T16:00:00Z.");
                    return false;
                }

                query = name == "created_after" ? query with { CreatedAfter = instant } : query with { CreatedBefore = instant };
                return true;
            case "batch_id":
                if (!BatchId.IsValid(value))
                {
                    error = new ParseError(name, $"'{Shorten(value)}' is not a batch or workflow id: 'batch_' and 32 lowercase hex digits.");
                    return false;
                }

                query = query with { BatchId = value };
                return true;
            case "tenant":
                return TryApplyTenant(value, caller, ref query, out error);
            default:
                error = new ParseError(name, $"is not a filter; the filters are: {string.Join(", ", Names)}.");
                return false;
        }
    }

    /// <summary>A created_after that is not before created_before matches nothing: say so rather than answer empty pages.</summary>
    public static ParseError? CheckRange(JobQuery query) =>
        query is { CreatedAfter: { } after, CreatedBefore: { } before } && after >= before
            ? new ParseError("created_before", $"must be after created_after ({Rfc3339.Format(after)}); it is {Rfc3339.Format(before)}.")
            : null;

    /// <summary>
    /// An admin key may name any tenant, or <see cref="EveryTenant"/>; a tenant key only its own (anything else is a
    /// 403: the key may not read it).
    /// </summary>
    private static bool TryApplyTenant(string value, ConveyorCaller caller, ref JobQuery query, out ParseError? error)
    {
        error = null;
        if (value == EveryTenant)
        {
            if (!caller.IsAdmin)
            {
                error = new ParseError("tenant", "'*' (every tenant) needs an admin key (Conveyor:Api:Keys:N:Admin = true).", Forbidden: true);
                return false;
            }

            query = query with { Tenant = null };
            return true;
        }

        if (TenantId.IsDotName(value))
        {
            error = new ParseError("tenant", $"'{value}' cannot be a tenant: '.' and '..' mean a folder itself and its parent in a file path, where a tenant's name may end up; '*' lists every tenant's.");
            return false;
        }

        if (!TenantId.IsValid(value))
        {
            error = new ParseError("tenant", $"'{Shorten(value)}' is not a tenant: {TenantId.Rule}, or '*' for every tenant.");
            return false;
        }

        if (!caller.IsAdmin && !string.Equals(value, caller.Tenant, StringComparison.Ordinal))
        {
            error = new ParseError("tenant", $"this API key reads tenant '{caller.Tenant}' only; another tenant needs an admin key.", Forbidden: true);
            return false;
        }

        query = query with { Tenant = value };
        return true;
    }

    public static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");
}
