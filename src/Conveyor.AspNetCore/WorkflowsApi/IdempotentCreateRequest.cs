using System.Buffers;
using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>Parses a request body; on failure <paramref name="error"/> names the field.</summary>
internal delegate T? RequestBodyParser<T>(ReadOnlySequence<byte> body, out ParseError? error)
    where T : class;

/// <summary>
/// A <c>POST /batches</c> or <c>POST /workflows</c> request as its endpoint reads it before storing anything: the JSON
/// body within the size limit, the <c>Idempotency-Key</c> header (null without one), the tenant to create in (the key's,
/// or the one an admin key names with <c>?tenant=</c>) and the body parsed. Read in this order, so that each refusal is
/// the one a client would fix first.
/// </summary>
internal sealed record IdempotentCreateRequest<TRequest>(TRequest Request, string? IdempotencyKey, string Tenant)
    where TRequest : class
{
    /// <summary>The request; or, when a part of it is refused, the 400, 403, 413 or 415 to answer.</summary>
    public static async ValueTask<(IdempotentCreateRequest<TRequest>? Request, Results<Created<TCreated>, ValidationProblem, ProblemHttpResult>? Refusal)> ReadAsync<TCreated>(
        HttpContext http, int maxRequestBytes, RequestBodyParser<TRequest> parse, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, maxRequestBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (null, problem!);
        }

        if (!JobsApi.IdempotencyKey.TryRead(http.Request, out var key, out var invalidKey))
        {
            return (null, invalidKey!);
        }

        if (!WorkflowsEndpoints.TryTenant(http, out var tenant, out var invalid, out var forbidden))
        {
            return (null, invalid is not null ? invalid : forbidden!);
        }

        if (parse(new ReadOnlySequence<byte>(body), out var error) is not { } request)
        {
            return (null, ApiProblems.Invalid(error!.Field, error.Reason));
        }

        return (new IdempotentCreateRequest<TRequest>(request, key, tenant), null);
    }
}
