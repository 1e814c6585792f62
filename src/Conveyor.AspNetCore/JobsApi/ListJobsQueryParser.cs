using Conveyor.Storage;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Reads <c>GET /jobs?status=&amp;type=&amp;queue=&amp;error=&amp;created_after=&amp;created_before=&amp;tenant=&amp;limit=&amp;cursor=</c>;
/// an unknown parameter or value is an error that names it.
/// </summary>
internal static class ListJobsQueryParser
{
    public static readonly string[] Parameters = [.. JobFilterParser.Names, "limit", "cursor"];

    public static JobQuery? Parse(IQueryCollection query, ConveyorCaller caller, ConveyorApiOptions options, out ParseError? error)
    {
        error = null;
        var result = new JobQuery { Tenant = caller.Tenant, Limit = options.DefaultPageSize };
        foreach (var (name, values) in query)
        {
            if (!ListQueryRules.TryGetSingle(name, values, Parameters, out var value, out error))
            {
                return null;
            }

            switch (name)
            {
                case "limit":
                    if (!ListQueryRules.TryReadLimit(name, value, options.MaxPageSize, out var limit, out error))
                    {
                        return null;
                    }

                    result = result with { Limit = limit };
                    break;
                case "cursor":
                    if (!JobCursor.TryDecode(value, out _))
                    {
                        error = ListQueryRules.NotACursor(name);
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
