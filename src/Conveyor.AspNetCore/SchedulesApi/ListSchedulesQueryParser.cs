using Conveyor.AspNetCore.JobsApi;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>
/// Reads <c>GET /schedules?limit=&amp;cursor=&amp;tenant=</c>; an unknown parameter or value is an error that names it.
/// An admin key may name another tenant, or every tenant with <c>*</c> (schedules defined in code or configuration are
/// the default tenant's); a tenant key only its own.
/// </summary>
internal static class ListSchedulesQueryParser
{
    public static readonly string[] Parameters = ["limit", "cursor", "tenant"];

    /// <summary>
    /// The page size, where the page starts (null: from the first) and the tenant (null: every tenant). A listing of one
    /// tenant is ordered by name and its cursor is the previous page's last name; one of every tenant is ordered by tenant,
    /// then name, and its cursor is <c>{tenant}/{name}</c> (neither may hold a '/').
    /// </summary>
    public static ScheduleListQuery? Parse(IQueryCollection query, ConveyorCaller caller, ConveyorApiOptions options, out ParseError? error)
    {
        error = null;
        var limit = options.DefaultPageSize;
        string? cursor = null;
        var scope = new JobQuery { Tenant = caller.Tenant };
        foreach (var (name, values) in query)
        {
            if (!Parameters.Contains(name, StringComparer.Ordinal))
            {
                error = new ParseError(CreateJobRequestParser.Shorten(name), $"is not a query parameter of this endpoint; it takes: {string.Join(", ", Parameters)}.");
                return null;
            }

            if (values.Count != 1)
            {
                error = new ParseError(name, "must be given once.");
                return null;
            }

            var value = values[0] ?? "";
            if (name == "cursor")
            {
                cursor = value;
            }
            else if (name == "limit" ? !ListQueryRules.TryReadLimit(name, value, options.MaxPageSize, out limit, out error)
                                      : !JobFilterParser.TryApply(name, value, caller, ref scope, out error))
            {
                return null;
            }
        }

        ScheduleListCursor? after = null;
        if (cursor is not null && (after = ScheduleListCursor.TryRead(cursor, everyTenant: scope.Tenant is null)) is null)
        {
            error = new ParseError("cursor", "is not a cursor from a previous page's next_cursor (of a listing of the same tenant, or of every tenant).");
            return null;
        }

        return new ScheduleListQuery(limit, after, scope.Tenant);
    }
}
