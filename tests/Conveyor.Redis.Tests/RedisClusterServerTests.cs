using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Server.Tests;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The bundled server on a real three-master Redis Cluster, as an operator runs it: its start-up line names every node
/// configured, the fan-out sample publishes, and what a Cluster refuses in a batch (an Idempotency-Key, a unique_key) is
/// a 400 naming the header or the field, not a 500 or a false 409.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterServerTests
{
    private const string Key = "cluster-server-key-of-acme";

    [RedisFact]
    public async Task BundledServer_OnACluster_NamesEveryNode_PublishesTheSample_AndAnswersBatchRefusalsWith400()
    {
        await using var cluster = await RedisCluster.StartAsync();
        using var scope = new CrashTestStore("redis", "cluster-server", cluster.Configuration);
        using var server = WorkerProcess.Start(scope.Directory, scope.WorkerSettings(new Dictionary<string, string>
        {
            ["Conveyor__Api__Keys__0__Key"] = Key,
            ["Conveyor__Api__Keys__0__Tenant"] = "acme",
        }));
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(60)) };

        Assert.Contains($"store: redis ({cluster.Configuration.Replace(",", ", ", StringComparison.Ordinal)}, prefix '{scope.Scope}')", server.Output, StringComparison.Ordinal);

        using (var published = await SendAsync(http, "/notes/7/created", null))
        {
            var text = await published.Content.ReadAsStringAsync();
            Assert.True(published.StatusCode == HttpStatusCode.Accepted, $"{(int)published.StatusCode}: {text}");
            var jobs = JsonDocument.Parse(text).RootElement.GetProperty("jobs").EnumerateArray().ToList();
            Assert.Equal(2, jobs.Count);
            Assert.Single(jobs.Select(static j => j.GetProperty("queue").GetString()).Distinct());
        }

        const string TwoQueues = """{"jobs": [{"type": "demo:sleep", "payload": {"seconds": 0}, "queue": "default"}, {"type": "demo:sleep", "payload": {"seconds": 0}, "queue": "low"}]}""";
        await AssertInvalidAsync(await SendAsync(http, "/batches", TwoQueues, idempotencyKey: "never-used-before"), "Idempotency-Key");
        await AssertInvalidAsync(await SendAsync(http, "/batches", TwoQueues.Replace("\"queue\": \"low\"", "\"queue\": \"low\", \"unique_key\": \"u\", \"unique_for_seconds\": 60", StringComparison.Ordinal)), "jobs[1].unique_key");
        using var created = await SendAsync(http, "/batches", TwoQueues);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var batchId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString();
        await AssertInvalidAsync(await SendAsync(http, $"/batches/{batchId}/jobs", """{"jobs": [{"type": "demo:sleep", "payload": {"seconds": 0}}]}""", idempotencyKey: "add-1"), "Idempotency-Key");
    }

    private static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
            Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
            Assert.Contains("Redis Cluster", text, StringComparison.Ordinal);
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await http.SendAsync(request);
    }
}
