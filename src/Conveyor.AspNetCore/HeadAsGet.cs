using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conveyor.AspNetCore;

/// <summary>
/// RFC 9110 §9.1: what answers GET answers HEAD, with the same status and headers and no body (Kestrel writes none for
/// HEAD). ASP.NET Core routes HEAD only to endpoints that name it, so the GET endpoints of a builder are given HEAD as
/// well; they stay single operations of the OpenAPI document (ConveyorOpenApi leaves HEAD out).
/// </summary>
internal static class HeadAsGet
{
    public static TBuilder AnswerHeadAsGet<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(static endpoint =>
        {
            for (var i = 0; i < endpoint.Metadata.Count; i++)
            {
                if (endpoint.Metadata[i] is HttpMethodMetadata { HttpMethods: var methods } get
                    && methods.Contains(HttpMethods.Get, StringComparer.OrdinalIgnoreCase)
                    && !methods.Contains(HttpMethods.Head, StringComparer.OrdinalIgnoreCase))
                {
                    endpoint.Metadata[i] = new HttpMethodMetadata([.. methods, HttpMethods.Head], get.AcceptCorsPreflight);
                }
            }
        });
        return builder;
    }
}
