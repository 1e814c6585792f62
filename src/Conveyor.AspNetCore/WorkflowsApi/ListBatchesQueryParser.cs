using Conveyor.AspNetCore.JobsApi;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>
/// Reads <c>GET /batches?status=&amp;tenant=&amp;limit=&amp;cursor=</c> (and <c>GET /workflows</c>, the same parameters)
/// with the rules of <c>GET /jobs</c>: an unknown parameter or value is an error that names it; <c>tenant</c> is the
/// key's own unless an admin key names another, or <c>*</c> for every tenant's (a tenant key naming either is a 403).
/// </summary>
internal static class ListBatchesQueryParser
{
    public static readonly string[] Parameters = ["status", "tenant", "limit", "cursor"];

    private static readonly string Statuses = string.Join(", ", Enum.GetValues<BatchState>().Select(s => s.ToApiStatus()));

    public static BatchQuery? Parse(IQueryCollection query, ConveyorCaller caller, ConveyorApiOptions options, bool workflowsOnly, out ParseError? error)
    {
        error = null;
        var result = new BatchQuery { Tenant = caller.Tenant, Limit = Math.Min(options.DefaultPageSize, BatchQuery.MaxLimit), WorkflowsOnly = workflowsOnly };
        var maxLimit = Math.Min(options.MaxPageSize, BatchQuery.MaxLimit);
        foreach (var (name, values) in query)
        {
            if (!ListQueryRules.TryGetSingle(name, values, Parameters, out var value, out error))
            {
                return null;
            }

            switch (name)
            {
                case "status":
                    // Case-sensitive, as every enum of the API: "running" is refused, not read as RUNNING.
                    var matched = Enum.GetValues<BatchState>().Where(s => string.Equals(s.ToApiStatus(), value, StringComparison.Ordinal)).ToArray();
                    if (matched.Length == 0)
                    {
                        error = new ParseError(name, $"'{JobFilterParser.Shorten(value)}' is not a batch status; use one of {Statuses}.");
                        return null;
                    }

                    result = result with { State = matched[0] };
                    break;
                case "tenant":
                    var scope = new JobQuery { Tenant = caller.Tenant };
                    if (!JobFilterParser.TryApply(name, value, caller, ref scope, out error))
                    {
                        return null;
                    }

                    result = result with { Tenant = scope.Tenant };
                    break;
                case "limit":
                    if (!ListQueryRules.TryReadLimit(name, value, maxLimit, out var limit, out error))
                    {
                        return null;
                    }

                    result = result with { Limit = limit };
                    break;
                default:
                    if (BatchListCursor.ToStore(value) is not { } storeCursor)
                    {
                        error = ListQueryRules.NotACursor(name);
                        return null;
                    }

                    result = result with { Cursor = storeCursor };
                    break;
            }
        }

        return result;
    }
}
