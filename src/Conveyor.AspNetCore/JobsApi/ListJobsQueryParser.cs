using System.Globalization;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Reads <c>GET /jobs?status=&amp;type=&amp;queue=&amp;error=&amp;created_after=&amp;created_before=&amp;tenant=&amp;limit=&amp;cursor=</c>;
/// an unknown parameter or value is an error that names it.
/// </summary>
internal static class ListJobsQueryParser
{
    private static readonly string[] Parameters = [.. JobFilterParser.Names, "limit", "cursor"];

    public static JobQuery? Parse(IQueryCollection query, ConveyorCaller caller, ConveyorApiOptions options, out ParseError? error)
    {
        error = null;
        var result = new JobQuery { Tenant = caller.Tenant, Limit = options.DefaultPageSize };
        foreach (var (name, values) in query)
        {
            if (!Parameters.Contains(name, StringComparer.Ordinal))
            {
                error = new ParseError(name, $"is not a query parameter of this endpoint; it takes: {string.Join(", ", Parameters)}.");
                return null;
            }

            if (values.Count != 1)
            {
                error = new ParseError(name, "must be given once.");
                return null;
            }

            var value = values[0] ?? "";
            switch (name)
            {
                case "limit":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > options.MaxPageSize)
                    {
                        error = new ParseError(name, $"'{JobFilterParser.Shorten(value)}' is not a page size: use a whole number from 1 to {options.MaxPageSize} (Conveyor:Api:MaxPageSize).");
                        return null;
                    }

                    result = result with { Limit = limit };
                    break;
                case "cursor":
                    if (!JobCursor.TryDecode(value, out _))
                    {
                        error = new ParseError(name, "is not a cursor from a previous page's next_cursor.");
                        return null;
                    }

                    result = result with { Cursor = value };
                    break;
                default:
                    if (!JobFilterParser.TryApply(name, value, caller, ref result, out error))
                    {
                        return null;
                    }

                    break;
            }
        }

        error = JobFilterParser.CheckRange(result);
        return error is null ? result : null;
    }
}
