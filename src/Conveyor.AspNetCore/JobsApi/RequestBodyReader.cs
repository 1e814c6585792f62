using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Reads a request body up to a limit, refusing early on a Content-Length over it and never buffering past it.</summary>
internal static class RequestBodyReader
{
    /// <summary>
    /// The JSON body of a request, or the problem to answer instead: 415 for a content type that is not JSON, 413 for a
    /// body over <paramref name="limit"/>, which the 413 names as <paramref name="limitName"/> (by default the setting
    /// <c>Conveyor:Api:MaxRequestBytes</c>).
    /// </summary>
    public static async ValueTask<(byte[]? Body, ProblemHttpResult? Problem)> ReadJsonAsync(HttpRequest request, int limit, CancellationToken cancellationToken, string limitName = "Conveyor:Api:MaxRequestBytes")
    {
        if (!IsJsonOrUnspecified(request.ContentType))
        {
            return (null, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON.",
                detail: $"Content-Type is '{request.ContentType}'; send 'Content-Type: application/json'."));
        }

        var (body, size) = await ReadAsync(request, limit, cancellationToken).ConfigureAwait(false);
        return body is null
            ? (null, ApiProblems.TooLarge("body", size, sizeIsExact: request.ContentLength is not null, limit, limitName))
            : (body, null);
    }

    private static bool IsJsonOrUnspecified(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The body, or null when it is over <paramref name="limit"/> bytes; the size is then its
    /// Content-Length, or for a chunked body the bytes received before reading stopped (more than the limit).
    /// </summary>
    public static async ValueTask<(byte[]? Body, long Size)> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length && length > limit)
        {
            return (null, length);
        }

        // The server's own body limit (Kestrel: 30 MB) must not cut in before ours with an answer of its own.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature
            && sizeFeature.MaxRequestBodySize is { } serverLimit && serverLimit <= limit)
        {
            sizeFeature.MaxRequestBodySize = limit + 1L;
        }

        PipeReader reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return (null, buffer.Length);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return (body, body.Length);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
