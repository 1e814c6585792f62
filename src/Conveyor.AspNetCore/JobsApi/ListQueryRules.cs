using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The rules every listing's query shares (<c>GET /jobs</c>, <c>GET /batches</c>, <c>GET /workflows</c>): only the
/// endpoint's parameters, each given once; a page size from 1 to the endpoint's largest. Each refusal names the parameter.
/// </summary>
internal static class ListQueryRules
{
    /// <summary>The parameter's one value; an error when the endpoint does not take it or it is given more than once.</summary>
    public static bool TryGetSingle(string name, StringValues values, string[] parameters, out string value, out ParseError? error)
    {
        value = "";
        if (!parameters.Contains(name, StringComparer.Ordinal))
        {
            error = new ParseError(name, $"is not a query parameter of this endpoint; it takes: {string.Join(", ", parameters)}.");
            return false;
        }

        if (values.Count != 1)
        {
            error = new ParseError(name, "must be given once.");
            return false;
        }

        value = values[0] ?? "";
        error = null;
        return true;
    }

    /// <summary>
    /// A whole number written only with the digits 0-9: int.TryParse without number styles still skips trailing NUL
    /// characters ("2\0"), which a query must not carry unnoticed.
    /// </summary>
    public static bool TryReadWholeNumber(string value, out int number)
    {
        number = 0;
        return value.Length > 0 && !value.AsSpan().ContainsAnyExceptInRange('0', '9')
            && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>A page size from 1 to <paramref name="max"/>.</summary>
    public static bool TryReadLimit(string name, string value, int max, out int limit, out ParseError? error)
    {
        if (!TryReadWholeNumber(value, out limit) || limit < 1 || limit > max)
        {
            error = new ParseError(name, $"'{JobFilterParser.Shorten(value)}' is not a page size: use a whole number from 1 to {max} (Conveyor:Api:MaxPageSize).");
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>What a cursor that did not come from a page of this listing is told.</summary>
    public static ParseError NotACursor(string name) => new(name, "is not a cursor from a previous page's next_cursor.");
}
