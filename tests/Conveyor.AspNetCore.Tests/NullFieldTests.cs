using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// One rule for <c>null</c> in every request body, walked from the OpenAPI document as a fuzzer walks it: a field a body
/// may leave out may be null, the document marks it nullable, and the server does exactly what it does without it; a
/// required field that is null is a 400 naming it, and the document refuses it too. Never a 5xx.
/// </summary>
public sealed partial class NullFieldTests
{
    private const string Id = "job_31c8927959d5442e90e3a6bc5a9188ec";

    /// <summary>
    /// An operation with a JSON object body: the path to send to, the smallest body it accepts (it picks the oneOf branch
    /// for an operation with two forms), and where to read what it stored when the answer alone does not show it.
    /// </summary>
    private sealed record Case(string Method, string Template, string Path, string Body, bool ReadLocation = false, string? Cleanup = null);

    [Fact]
    public async Task NullForAnOptionalField_IsTheFieldLeftOut_AndTheDocumentSaysSo_InEveryBody()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        string batchId;
        using (var batch = await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop"}]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, batch.StatusCode);
            batchId = (await ProblemAssert.ReadJsonAsync(batch)).GetProperty("batch_id").GetString()!;
        }

        Case[] cases =
        [
            new("POST", "/jobs", "/jobs", """{"type": "test:noop"}""", ReadLocation: true),
            new("POST", "/batches", "/batches", """{"jobs": [{"type": "test:noop"}]}""", ReadLocation: true),
            new("POST", "/batches/{batchId}/jobs", $"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop"}]}"""),
            new("POST", "/workflows", "/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop"}}]}""", ReadLocation: true),
            new("POST", "/jobs/bulk", "/jobs/bulk", $$"""{"action": "retry", "ids": ["{{Id}}"]}"""),
            new("POST", "/jobs/bulk", "/jobs/bulk", """{"action": "retry", "filter": {}}"""),
            new("POST", "/schedules", "/schedules", """{"name": "n", "cron": "0 3 * * *", "job_type": "test:noop"}""", Cleanup: "/schedules/n"),
            new("PUT", "/schedules/{name}", "/schedules/p", """{"cron": "0 3 * * *", "job_type": "test:noop"}"""),
            new("PUT", "/limits/{kind}/{name}", "/limits/concurrency/c", """{"queue": "q", "max": 2}"""),
            new("PUT", "/limits/{kind}/{name}", "/limits/rate/r", """{"queue": "q", "limit": 5, "period_seconds": 1}"""),
        ];

        // Every operation whose body is an object with fields is walked (a signal's body is any JSON value).
        foreach (var (method, path) in contract.Operations)
        {
            if (BodySchema(contract, method, path) is { } schema && Resolve(contract, schema) is var resolved && (resolved["properties"] ?? resolved["oneOf"]) is not null)
            {
                Assert.True(cases.Any(c => c.Method == method && c.Template == path), $"{method} {path} has a JSON object body and no case here");
            }
        }

        var notNullable = new List<string>();
        foreach (var @case in cases)
        {
            var schema = BodySchema(contract, @case.Method, @case.Template)!;
            var body = JsonNode.Parse(@case.Body)!;
            var (status, expected) = await SendAsync(app, @case, @case.Body);
            Assert.True(status is >= 200 and < 300, $"{@case.Method} {@case.Path} {@case.Body}: {status} {expected}");
            foreach (var (field, location, required, nullable) in Fields(contract, schema, body, []))
            {
                var mutated = body.DeepClone();
                var parent = location.Aggregate(mutated, static (node, step) => step is int index ? node[index]! : node[(string)step]!);
                parent.AsObject()[Last(field)] = null;
                var text = mutated.ToJsonString();
                var what = $"{@case.Method} {@case.Path} {text}";
                if (!required && nullable)
                {
                    contract.AssertValid(schema, text, what);
                    var (nullStatus, answer) = await SendAsync(app, @case, text);
                    Assert.True(nullStatus is >= 200 and < 300, $"{what}: {nullStatus} {answer}");
                    Assert.True(expected == answer, $"{what}: null did not do what leaving {field} out does:\n{expected}\n{answer}");
                }
                else
                {
                    if (!required)
                    {
                        notNullable.Add($"{@case.Method} {@case.Template} {field}");
                    }

                    contract.AssertInvalid(schema, text, what);
                    using var request = new HttpRequestMessage(new HttpMethod(@case.Method), @case.Path) { Content = TestApp.Json(text) };
                    using var response = await app.Client.SendAsync(request);
                    await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
                }
            }
        }

        Assert.True(notNullable.Count == 0, "optional fields the document does not let be null (the API's rule is that every one may be):\n" + string.Join("\n", notNullable));
    }

    /// <summary>
    /// The fields of the object <paramref name="body"/> (at <paramref name="location"/> in the request) as its schema
    /// declares them, and those of the objects in it: the field's name as a refusal names it, where its object is, whether it
    /// is required and whether the schema takes null for it.
    /// </summary>
    private static IEnumerable<(string Field, List<object> Location, bool Required, bool Nullable)> Fields(OpenApiContract contract, JsonNode schema, JsonNode body, List<object> location)
    {
        var resolved = Resolve(contract, schema);
        if (resolved["oneOf"] is JsonArray branches)
        {
            // The branch the smallest body is of, as a fuzzer's body is of one.
            resolved = Resolve(contract, branches.Single(b => contract.IsValid(b!, body.ToJsonString()))!);
        }

        if (resolved["properties"] is not JsonObject properties)
        {
            yield break;
        }

        var required = resolved["required"]?.AsArray().Select(static r => r!.GetValue<string>()).ToHashSet() ?? [];
        var prefix = string.Concat(location.Select(static step => step is int index ? $"[{index}]" : "." + step)).TrimStart('.');
        foreach (var (name, property) in properties)
        {
            var propertySchema = Resolve(contract, property!);
            var nullable = propertySchema["type"] switch
            {
                null => propertySchema["$ref"] is null,
                JsonArray types => types.Any(static t => t!.GetValue<string>() == "null"),
                var type => type.GetValue<string>() == "null",
            };
            yield return (prefix.Length == 0 ? name : $"{prefix}.{name}", location, required.Contains(name), nullable);

            // The objects the smallest body has in it: their fields too (jobs[0].queue, steps[0].job.queue, filter.status).
            var value = body[name];
            if (value is JsonObject)
            {
                foreach (var inner in Fields(contract, propertySchema, value, [.. location, name]))
                {
                    yield return inner;
                }
            }
            else if (value is JsonArray { Count: > 0 } items && items[0] is JsonObject first && propertySchema["items"] is { } itemSchema)
            {
                foreach (var inner in Fields(contract, itemSchema, first, [.. location, name, 0]))
                {
                    yield return inner;
                }
            }
        }
    }

    private static string Last(string field) => field[(field.LastIndexOf('.') + 1)..];

    private static JsonNode? BodySchema(OpenApiContract contract, string method, string path) =>
        contract.Operation(method, path)["requestBody"]?["content"]?["application/json"]?["schema"];

    private static JsonNode Resolve(OpenApiContract contract, JsonNode schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference
            ? contract.Document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!
            : schema;

    /// <summary>The answer's status, and what the request did: its answer (or what it stored), ids and times left out.</summary>
    private static async Task<(int Status, string Effect)> SendAsync(TestApp app, Case @case, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(@case.Method), @case.Path) { Content = TestApp.Json(body) };
        using var response = await app.Client.SendAsync(request);
        var effect = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode is >= 200 and < 300 && @case.ReadLocation)
        {
            using var stored = await app.Client.GetAsync(response.Headers.Location);
            effect += "\n" + await stored.Content.ReadAsStringAsync();
        }

        if (@case.Cleanup is not null)
        {
            using var deleted = await app.Client.DeleteAsync(@case.Cleanup);
        }

        return ((int)response.StatusCode, Volatile().Replace(effect, "*"));
    }

    /// <summary>What differs between two requests that did the same: ids, trace ids and times.</summary>
    [GeneratedRegex("[0-9a-f]{16,}|\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)")]
    private static partial Regex Volatile();
}
