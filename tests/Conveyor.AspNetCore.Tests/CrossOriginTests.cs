using System.Net;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// A page of another origin cannot make a browser change anything through the API (Go's CrossOriginProtection rule):
/// on a server without keys every request is an admin's, and a form or a no-cors fetch needs no key to be sent.
/// </summary>
public sealed class CrossOriginTests
{
    public static TheoryData<string?, string?, HttpStatusCode> Posts => new()
    {
        { "cross-site", null, HttpStatusCode.Forbidden },
        { "same-site", null, HttpStatusCode.Forbidden },
        { "cross-site", "http://localhost", HttpStatusCode.Forbidden },
        { "same-origin", null, HttpStatusCode.Accepted },
        { "none", null, HttpStatusCode.Accepted },
        { null, "http://evil.example", HttpStatusCode.Forbidden },
        { null, "http://localhost:8123", HttpStatusCode.Forbidden },
        { null, "null", HttpStatusCode.Forbidden },
        { null, "http://localhost", HttpStatusCode.Accepted },
        { null, null, HttpStatusCode.Accepted },
    };

    [Theory]
    [MemberData(nameof(Posts))]
    public async Task Post_FromAPageOfAnotherOrigin_Is403AndStoresNothing_FromItsOwnOriginOrNoBrowser_IsTaken(string? fetchSite, string? origin, HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await app.Client.SendAsync(request);

        if (expected == HttpStatusCode.Forbidden)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
            Assert.Contains("another origin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Empty(await app.StoredJobsAsync());
        }
        else
        {
            Assert.Equal(expected, response.StatusCode);
            Assert.Single(await app.StoredJobsAsync());
        }
    }

    [Theory]
    [InlineData("POST", "/queues/default/pause")]
    [InlineData("POST", "/jobs/job_00000000000000000000000000000000/cancel")]
    [InlineData("DELETE", "/schedules/nightly")]
    [InlineData("PUT", "/limits/concurrency/x")]
    public async Task EveryStateChangingEndpoint_RefusesAnotherOrigin(string method, string path)
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = TestApp.Json("""{"queue": "default", "max": 1}""") };
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        using var response = await app.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task WithKeys_ARequestCarryingItsKey_IsTaken_FromAPageOfAnotherOrigin()
    {
        // A page elsewhere cannot make a browser send the key; one that has it is the application's own (CORS).
        await using var app = await TestApp.StartAsync(withKeys: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        request.Headers.Add("Sec-Fetch-Site", "same-site");
        request.Headers.Add("Origin", "https://admin.example.com");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.KeyA);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Get_FromAnotherOrigin_IsAnswered_TheBrowserKeepsTheAnswerFromThePage()
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        request.Headers.Add("Sec-Fetch-Site", "cross-site");
        request.Headers.Add("Origin", "http://evil.example");

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheDocument_DescribesThe403_OfStateChangingOperationsOnly()
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.Client.GetAsync("/openapi/v1.json");
        var paths = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("paths");

        var create = paths.GetProperty("/jobs").GetProperty("post").GetProperty("responses").GetProperty("403");
        var pause = paths.GetProperty("/queues/{name}/pause").GetProperty("post").GetProperty("responses").GetProperty("403");
        var list = paths.GetProperty("/jobs").GetProperty("get").GetProperty("responses");

        Assert.Contains("another origin", create.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("application/problem+json", create.GetProperty("content").EnumerateObject().Select(c => c.Name));
        Assert.Contains("another origin", pause.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(!list.TryGetProperty("403", out var listed) || !listed.GetProperty("description").GetString()!.Contains("another origin", StringComparison.Ordinal));
    }
}
