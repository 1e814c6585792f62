using Conveyor.AspNetCore.JobsApi;
using Conveyor.Scheduling;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>Reads <c>GET /schedules?limit=&amp;cursor=</c>; an unknown parameter or value is an error that names it.</summary>
internal static class ListSchedulesQueryParser
{
    public static readonly string[] Parameters = ["limit", "cursor"];

    /// <summary>The page size and the name after which the page starts (null: from the first).</summary>
    public static (int Limit, string? After)? Parse(IQueryCollection query, ConveyorApiOptions options, out ParseError? error)
    {
        error = null;
        var limit = options.DefaultPageSize;
        string? after = null;
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
            if (name == "limit")
            {
                if (!ListQueryRules.TryReadLimit(name, value, options.MaxPageSize, out limit, out error))
                {
                    return null;
                }
            }
            else
            {
                // The cursor is the name of the previous page's last schedule.
                if (!ScheduleValidator.IsValidName(value))
                {
                    error = new ParseError(name, "is not a cursor from a previous page's next_cursor.");
                    return null;
                }

                after = value;
            }
        }

        return (limit, after);
    }
}
