using System.Net;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// Without keys the API answers only requests that name it localhost or a loopback address: a DNS-rebinding page (its
/// own name resolving to 127.0.0.1) would otherwise act as an admin through a visitor's browser, same-origin to it.
/// </summary>
public sealed class HostNameTests
{
    [Theory]
    [InlineData("evil.example:8080", HttpStatusCode.BadRequest)]
    [InlineData("127.0.0.1.evil.example", HttpStatusCode.BadRequest)]
    [InlineData("localhost:8080", HttpStatusCode.Accepted)]
    [InlineData("127.0.0.2", HttpStatusCode.Accepted)]
    [InlineData("[::1]:5000", HttpStatusCode.Accepted)]
    public async Task WithoutKeys_OnlyALoopbackHost_IsAnswered(string host, HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        request.Headers.Host = host;

        using var response = await app.Client.SendAsync(request);

        if (expected == HttpStatusCode.BadRequest)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains("DNS rebinding", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Empty(await app.StoredJobsAsync());
        }
        else
        {
            Assert.Equal(expected, response.StatusCode);
        }
    }

    [Fact]
    public async Task WithKeys_AnyHost_IsAnswered()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        request.Headers.Host = "jobs.example.com";
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.KeyA);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
