using System.Globalization;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Reads <c>GET /jobs?status=&amp;type=&amp;queue=&amp;limit=&amp;cursor=</c>; an unknown parameter or value is an error that names it.</summary>
internal static class ListJobsQueryParser
{
    private static readonly string[] Parameters = ["status", "type", "queue", "limit", "cursor"];

    private static readonly string Statuses = string.Join(", ", Enum.GetValues<JobState>().Select(s => s.ToApiStatus()));

    public static JobQuery? Parse(IQueryCollection query, string tenant, ConveyorApiOptions options, out ParseError? error)
    {
        error = null;
        var result = new JobQuery { Tenant = tenant, Limit = options.DefaultPageSize };
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
                case "status":
                    if (!JobStateExtensions.TryParseApiStatus(value, out var state))
                    {
                        error = new ParseError(name, $"'{Shorten(value)}' is not a status; use one of {Statuses}.");
                        return null;
                    }

                    result = result with { State = state };
                    break;
                case "type":
                    if (!JobType.IsValid(value))
                    {
                        error = new ParseError(name, $"'{Shorten(value)}' is not a job type of the form '{{domain}}:{{action}}'.");
                        return null;
                    }

                    result = result with { Type = value };
                    break;
                case "queue":
                    if (!QueueName.IsValid(value))
                    {
                        error = new ParseError(name, $"'{Shorten(value)}' is not a queue name: 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
                        return null;
                    }

                    result = result with { Queue = value };
                    break;
                case "limit":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > options.MaxPageSize)
                    {
                        error = new ParseError(name, $"'{Shorten(value)}' is not a page size: use a whole number from 1 to {options.MaxPageSize} (Conveyor:Api:MaxPageSize).");
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
            }
        }

        return result;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");
}
