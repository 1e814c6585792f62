using Microsoft.AspNetCore.Builder;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Endpoint metadata: the query parameters a Conveyor API endpoint reads (it checks their values itself). Any other is
/// refused by <see cref="QueryParametersEndpointFilter"/>; an endpoint without this metadata takes none.
/// </summary>
internal sealed class QueryParameters(params string[] names)
{
    public IReadOnlyList<string> Names { get; } = names;
}

internal static class QueryParametersEndpointConventions
{
    /// <summary>Declares the query parameters the endpoint reads; it refuses any other (<see cref="QueryParametersEndpointFilter"/>).</summary>
    public static RouteHandlerBuilder TakesQuery(this RouteHandlerBuilder builder, params string[] names) =>
        builder.WithMetadata(new QueryParameters(names));
}
