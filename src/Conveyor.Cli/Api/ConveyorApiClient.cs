using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Conveyor.Cli.Api;

/// <summary>
/// The server's HTTP API as the tool uses it: JSON in and out, the API key on every request, and every failure turned
/// into a <see cref="CliException"/> whose message is the server's own problem details (title, detail, the field at
/// fault) and whose exit code says what kind of failure it was.
/// </summary>
internal sealed class ConveyorApiClient : IDisposable
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;

    public ConveyorApiClient(CliSettings settings, HttpMessageHandler? handler)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        // A server whose API is mounted under a path (MapConveyorApi("/api"), a proxy's prefix) keeps it: the requests'
        // paths are resolved relative to a base that ends with '/'.
        _http.BaseAddress = settings.Url.AbsolutePath.EndsWith('/') ? settings.Url : new Uri(settings.Url.GetLeftPart(UriPartial.Path) + "/");
        _http.Timeout = RequestTimeout;
        if (settings.ApiKey is { } key)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public Uri BaseAddress => _http.BaseAddress!;

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, body: null, cancellationToken);

    public Task<JsonElement> PostAsync(string path, string? jsonBody, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, jsonBody, cancellationToken);

    /// <summary>A create (<c>POST</c>) with an <c>Idempotency-Key</c> when <paramref name="idempotencyKey"/> is given, so that a repeat answers the first create.</summary>
    public Task<JsonElement> CreateAsync(string path, string jsonBody, string? idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, jsonBody, cancellationToken, idempotencyKey);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, body: null, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? body, CancellationToken cancellationToken, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unreachable, $"The server at {BaseAddress} cannot be reached: {e.Message}", transient: true);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"The server at {BaseAddress} did not answer {method} {path} within {RequestTimeout.TotalSeconds:0} s.", transient: true);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw Failure(response.StatusCode, method, path, text);
            }

            if (text.Length == 0)
            {
                return default;
            }

            try
            {
                using var document = JsonDocument.Parse(text);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new CliException(ExitCodes.Refused, $"{method} {path} answered {(int)response.StatusCode} with a body that is not JSON: is {BaseAddress} a Conveyor server?");
            }
        }
    }

    private CliException Failure(HttpStatusCode status, HttpMethod method, string path, string body)
    {
        // The API's own 404s say what is missing (a problem with a detail); a bare one is the address: a wrong URL or
        // path prefix, or another server. Told as "not found", a script would take the job for gone.
        if (status == HttpStatusCode.NotFound && !HasDetail(body))
        {
            return new CliException(ExitCodes.Unreachable,
                $"{method} {path}: 404 with no Conveyor answer: is {BaseAddress} the Conveyor server's address, with its path prefix?", status: 404);
        }

        var exitCode = status switch
        {
            HttpStatusCode.NotFound => ExitCodes.NotFound,
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.Unauthorized,
            _ => ExitCodes.Refused,
        };
        var transient = (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
        return new CliException(exitCode, $"{method} {path}: {(int)status} {Describe(body) ?? status.ToString()}", (int)status, transient);
    }

    private static bool HasDetail(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("detail", out var detail)
                && detail.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The problem details' title, detail and field errors on one line; null when the body is not one.</summary>
    private static string? Describe(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var parts = new List<string>();
            foreach (var name in new[] { "title", "detail" })
            {
                if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text && !parts.Contains(text))
                {
                    parts.Add(text);
                }
            }

            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in errors.EnumerateObject())
                {
                    var messages = field.Value.ValueKind == JsonValueKind.Array
                        ? string.Join(" ", field.Value.EnumerateArray().Select(m => m.ToString()))
                        : field.Value.ToString();
                    if (!parts.Any(p => p.Contains(messages, StringComparison.Ordinal)))
                    {
                        parts.Add($"{field.Name}: {messages}");
                    }
                }
            }

            return parts.Count == 0 ? null : string.Join(" — ", parts);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
