using System.Net;
using System.Text;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Random bodies against POST /batches and POST /workflows: never a 500, and jobs are stored only for a 201.</summary>
public sealed class WorkflowsFuzzTests
{
    private static readonly string[] Values =
    [
        "null", "true", "0", "-1", "1e308", "\"\"", "\"a\"", "\"test:noop\"", "\"\\ud800\"", "{}", "[]", "[null]", "[1, 2]",
        "[\"a\"]", "[\"a\", \"a\"]", "\"cancel\"", "\"fail\"", "\"run\"", "\"explode\"", "99999999999999999999999",
        "{\"type\": \"test:noop\"}", "{\"type\": \"test:noop\", \"queue\": \"nobody\"}", "{\"type\": 1}", "{\"type\": \"nobody:runs\"}",
    ];

    [Theory]
    [InlineData("/batches")]
    [InlineData("/workflows")]
    public async Task Post_RandomBodies_NeverFailWith500_AndStoreJobsOnlyFor201(string path)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" });
        var random = new Random(20261202);
        var created = 0;
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < 1500; i++)
        {
            var body = path == "/batches" ? BatchBody(random) : WorkflowBody(random);
            using var response = await app.PostAsync(path, body);
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for body {body}: {await response.Content.ReadAsStringAsync()}");
            if (response.StatusCode == HttpStatusCode.Created)
            {
                created++;
            }
            else
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        Assert.True(created > 20, $"the generator should produce some valid bodies too: {string.Join(", ", statuses)}");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 500, string.Join(", ", statuses));
        Assert.Equal(created, (await app.StoredJobsAsync()).Select(j => j.BatchId ?? j.DependsOn.FirstOrDefault()?.Id).Distinct().Count());
    }

    private static string Value(Random random) => Values[random.Next(Values.Length)];

    private static string Job(Random random) => random.Next(4) == 0 ? Value(random) : random.Next(3) == 0
        ? $$"""{"type": "test:noop", "queue": "nobody", "{{(random.Next(2) == 0 ? "max_retry" : "payload")}}": {{Value(random)}}}"""
        : """{"type": "test:noop", "queue": "nobody"}""";

    private static string BatchBody(Random random)
    {
        if (random.Next(10) == 0)
        {
            var bytes = new byte[random.Next(0, 48)];
            random.NextBytes(bytes);
            return Encoding.UTF8.GetString(bytes);
        }

        var fields = new List<string>();
        if (random.Next(8) != 0)
        {
            fields.Add(random.Next(5) == 0 ? $"\"jobs\": {Value(random)}" : $"\"jobs\": [{string.Join(", ", Enumerable.Range(0, random.Next(0, 4)).Select(_ => Job(random)))}]");
        }

        foreach (var name in (string[])["on_success", "on_complete", "retention_seconds", "colour"])
        {
            if (random.Next(4) == 0)
            {
                fields.Add($"\"{name}\": {(name.StartsWith("on_", StringComparison.Ordinal) && random.Next(2) == 0 ? Job(random) : Value(random))}");
            }
        }

        return "{" + string.Join(", ", fields) + "}";
    }

    private static string WorkflowBody(Random random)
    {
        if (random.Next(10) == 0)
        {
            var bytes = new byte[random.Next(0, 48)];
            random.NextBytes(bytes);
            return Encoding.UTF8.GetString(bytes);
        }

        var names = new[] { "a", "b", "c", "a b", "" };
        var steps = Enumerable.Range(0, random.Next(0, 4)).Select(i =>
        {
            if (random.Next(8) == 0)
            {
                return Value(random);
            }

            var parts = new List<string> { $"\"name\": \"{(random.Next(6) == 0 ? names[random.Next(names.Length)] : "abc"[i].ToString())}\"", $"\"job\": {Job(random)}" };
            if (random.Next(2) == 0)
            {
                parts.Add(random.Next(4) == 0 ? $"\"after\": {Value(random)}" : $"\"after\": [{string.Join(", ", Enumerable.Range(0, random.Next(0, 3)).Select(_ => $"\"{names[random.Next(3)]}\""))}]");
            }

            if (random.Next(3) == 0)
            {
                parts.Add($"\"on_dependency_failure\": {Value(random)}");
            }

            return "{" + string.Join(", ", parts) + "}";
        });
        var fields = new List<string> { random.Next(6) == 0 ? $"\"steps\": {Value(random)}" : $"\"steps\": [{string.Join(", ", steps)}]" };
        if (random.Next(4) == 0)
        {
            fields.Add($"\"name\": {Value(random)}");
        }

        if (random.Next(6) == 0)
        {
            fields.Add($"\"retention_seconds\": {Value(random)}");
        }

        return "{" + string.Join(", ", fields) + "}";
    }
}
