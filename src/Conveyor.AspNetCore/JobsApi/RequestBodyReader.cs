using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Reads a request body up to a limit, refusing early on a Content-Length over it and never buffering past it.</summary>
internal static class RequestBodyReader
{
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
