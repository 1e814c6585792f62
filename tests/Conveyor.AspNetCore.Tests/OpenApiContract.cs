using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// The server's own OpenAPI document, used as a client would: every real response checked here must be a status the
/// operation declares, in a declared media type, with a body valid against the declared JSON schema (JsonSchema.Net,
/// draft 2020-12, as OpenAPI 3.1 means it) and the headers it declares. Remembers which operations were exercised.
/// </summary>
internal sealed class OpenApiContract
{
    private static readonly string[] AlwaysSentHeaders = ["Location", "Retry-After", "WWW-Authenticate"];

    private readonly JsonObject _document;
    private readonly HashSet<(string Method, string Path)> _covered = [];

    private OpenApiContract(JsonObject document) => _document = document;

    public JsonObject Document => _document;

    public static async Task<OpenApiContract> LoadAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new OpenApiContract(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    /// <summary>Every (method, path template) of the document.</summary>
    public IEnumerable<(string Method, string Path)> Operations =>
        _document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()
            .Where(o => o.Key is "get" or "post" or "put" or "delete" or "patch")
            .Select(o => (o.Key.ToUpperInvariant(), p.Key)));

    public IReadOnlyCollection<(string Method, string Path)> Covered => _covered;

    public JsonObject Operation(string method, string path) =>
        _document["paths"]?[path]?[method.ToLowerInvariant()]?.AsObject()
        ?? throw new Xunit.Sdk.XunitException($"the document has no operation {method} {path}");

    /// <summary>Checks <paramref name="response"/> of <paramref name="method"/> <paramref name="path"/> (a template of the document) against it.</summary>
    public async Task CheckAsync(string method, string path, HttpResponseMessage response, HttpStatusCode? expected = null)
    {
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var text = await response.Content.ReadAsStringAsync();
        if (expected is not null)
        {
            Assert.True(expected == response.StatusCode, $"{method} {path}: expected {(int)expected}, got {status}: {text}");
        }

        var declared = Operation(method, path)["responses"]?[status]?.AsObject();
        Assert.True(declared is not null, $"{method} {path} answered {status}, which the document does not declare: {text}");
        _covered.Add((method, path));

        foreach (var (name, _) in declared!["headers"]?.AsObject() ?? [])
        {
            if (AlwaysSentHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                Assert.True(response.Headers.NonValidated.Contains(name) || response.Content.Headers.NonValidated.Contains(name), $"{method} {path} {status} lacks the declared header {name}");
            }
        }

        var content = declared["content"]?.AsObject();
        if (content is null || content.Count == 0)
        {
            Assert.True(text.Length == 0, $"{method} {path} {status} declares no body but sent: {text}");
            return;
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        Assert.True(mediaType is not null && content.ContainsKey(mediaType), $"{method} {path} {status} sent '{mediaType}', the document declares {string.Join(", ", content.Select(c => c.Key))}");
        if (!mediaType!.EndsWith("json", StringComparison.Ordinal))
        {
            return;
        }

        var schema = content[mediaType]!["schema"];
        Assert.True(schema is not null, $"{method} {path} {status} {mediaType} has no schema");
        AssertValid(schema!, text, $"{method} {path} {status}");
    }

    /// <summary>Validates a JSON text against a schema of the document (its $refs resolved against the document's components).</summary>
    public void AssertValid(JsonNode schema, string json, string what)
    {
        var result = Evaluate(schema, json);
        Assert.True(result.IsValid, $"{what}: the body does not match its schema: {json}\n{string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}"))}");
    }

    /// <summary>Checks that a JSON text the server refuses does not match a schema of the document either.</summary>
    public void AssertInvalid(JsonNode schema, string json, string what) =>
        Assert.False(Evaluate(schema, json).IsValid, $"{what}: the schema accepts a body the server refuses: {json}");

    /// <summary>Whether a JSON text matches a schema of the document.</summary>
    public bool IsValid(JsonNode schema, string json) => Evaluate(schema, json).IsValid;

    private EvaluationResults Evaluate(JsonNode schema, string json)
    {
        var wrapper = schema.DeepClone().AsObject();
        wrapper["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        wrapper["$defs"] = _document["components"]?["schemas"]?.DeepClone() ?? new JsonObject();
        var text = wrapper.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var compiled = JsonSchema.FromText(text, baseUri: new Uri($"https://conveyor.test/{Guid.NewGuid():N}"));
        using var instance = JsonDocument.Parse(json);
        return compiled.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }
}
