using System.Buffers;
using System.IO.Pipelines;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Reads a request body up to a limit, refusing early on a Content-Length over it and never buffering past it.</summary>
internal static class RequestBodyReader
{
    /// <summary>
    /// The JSON body of a request, or the problem to answer instead: 415 for a content type other than
    /// <c>application/json</c> (with <c>charset=utf-8</c> or none), for a body sent without one or with a Content-Encoding
    /// (the API reads no coding), 413 for a body over
    /// <paramref name="limit"/>, which the 413 names as <paramref name="limitName"/> (by default the setting
    /// <c>Conveyor:Api:MaxRequestBytes</c>), 400 for a body that is not UTF-8. <paramref name="bodyOptional"/>: an
    /// empty body may come without a content type (a signal's payload).
    /// </summary>
    public static async ValueTask<(byte[]? Body, ProblemHttpResult? Problem)> ReadJsonAsync(
        HttpRequest request, int limit, CancellationToken cancellationToken, string limitName = "Conveyor:Api:MaxRequestBytes", bool bodyOptional = false)
    {
        var unspecified = string.IsNullOrEmpty(request.ContentType);
        if (unspecified ? !bodyOptional : !IsJson(request.ContentType!))
        {
            return (null, NotJson(request.ContentType));
        }

        if (Coded(request) is { } coding)
        {
            // RFC 9110 §15.5.16: a coding the server does not read is a 415 that names the codings it does.
            request.HttpContext.Response.Headers.AcceptEncoding = "identity";
            return (null, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must not be compressed.",
                detail: $"Content-Encoding is '{coding}'; the API reads bodies as sent: send the JSON uncompressed, without Content-Encoding."));
        }

        var (body, size) = await ReadAsync(request, limit, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (null, ApiProblems.TooLarge("body", size, sizeIsExact: request.ContentLength is not null, limit, limitName));
        }

        if (unspecified && body.Length > 0)
        {
            return (null, NotJson(request.ContentType));
        }

        // JSON is UTF-8 text (RFC 8259 §8.1). The parser does not check the bytes inside a string, so without this one
        // check a string's invalid bytes became U+FFFD, a name's an error about escapes, a signal's payload was stored raw.
        return Utf8.IsValid(body) ? (body, null) : (null, ApiProblems.NotUtf8("body", FirstInvalidByte(body)));
    }

    /// <summary>The Content-Encoding of the body when it names a coding other than identity (read as bytes it would be garbage, or JSON stored as is).</summary>
    private static string? Coded(HttpRequest request)
    {
        var codings = request.Headers.ContentEncoding;
        foreach (var value in codings)
        {
            foreach (var coding in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    return CreateJobRequestParser.Shorten(codings.ToString());
                }
            }
        }

        return null;
    }

    private static ProblemHttpResult NotJson(string? contentType) => TypedResults.Problem(
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        title: "The body must be JSON.",
        detail: string.IsNullOrEmpty(contentType)
            ? "The request has no Content-Type; send its JSON body with 'Content-Type: application/json'."
            : $"Content-Type is '{contentType}'; send 'Content-Type: application/json' (UTF-8, the only charset JSON has).");

    /// <summary>True for <c>application/json</c> with no charset or <c>charset=utf-8</c>: the media type the API documents.</summary>
    private static bool IsJson(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
        && mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && HeaderUtilities.RemoveQuotes(mediaType.Charset) is var charset
        && (charset.Length == 0 || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static int FirstInvalidByte(byte[] body)
    {
        var text = new char[body.Length];
        Utf8.ToUtf16(body, text, out var valid, out _, replaceInvalidSequences: false);
        return valid;
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

        // A slow upload is Kestrel's to bound (408), not the API's wait for the store (StoreWait): read with the request's
        // own token, the store's clock stopped.
        var wait = request.HttpContext.Features.Get<StoreWait>();
        wait?.PauseForBody();
        try
        {
            var token = wait?.RequestAborted ?? cancellationToken;
            PipeReader reader = request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync(token).ConfigureAwait(false);
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
        catch (IOException e) when (e is not BadHttpRequestException && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // Kestrel refuses most broken bodies as a BadHttpRequestException, but a chunk size over 2^31 as a plain
            // IOException ("Bad chunk size data.", an OverflowException inside): the caller's fault all the same, a 400.
            throw new BadHttpRequestException(e.Message, StatusCodes.Status400BadRequest, e);
        }
        finally
        {
            wait?.ResumeAfterBody();
        }
    }
}
