using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Refuses, with a 400 that names it, a query parameter the endpoint does not read (<see cref="QueryParameters"/>), before
/// the endpoint acts. Ignoring it would be worse than an error: an admin's <c>?tenant=acme</c> on an endpoint that acts
/// only in the key's own tenant would act there instead (delete the admin's own schedule of that name, enqueue the job
/// in the admin's tenant), and a misspelt filter would list everything. A parameter that is not UTF-8 is refused too.
/// </summary>
internal sealed class QueryParametersEndpointFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var query = context.HttpContext.Request.Query;
        if (query.Count == 0)
        {
            return next(context);
        }

        if (Utf8QueryString.FirstInvalid(context.HttpContext.Request.QueryString.Value) is { } invalid)
        {
            return ValueTask.FromResult<object?>(ApiProblems.Invalid(JobFilterParser.Shorten(invalid), "is not valid UTF-8 once its percent-escapes are decoded; nothing was done."));
        }

        var taken = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<QueryParameters>()?.Names ?? [];
        foreach (var (name, _) in query)
        {
            if (!taken.Contains(name, StringComparer.Ordinal))
            {
                var takes = taken.Count == 0 ? "it takes none" : $"it takes: {string.Join(", ", taken)}";
                var reason = name switch
                {
                    "" => $"a parameter without a name is not a query parameter of this endpoint; {takes}; nothing was done.",
                    "tenant" => $"is not a query parameter of this endpoint ({takes}): it acts in the API key's own tenant, or on what every tenant shares; nothing was done.",
                    _ => $"is not a query parameter of this endpoint; {takes}; nothing was done.",
                };
                return ValueTask.FromResult<object?>(ApiProblems.Invalid(name.Length == 0 ? "query" : JobFilterParser.Shorten(name), reason));
            }
        }

        return next(context);
    }
}
