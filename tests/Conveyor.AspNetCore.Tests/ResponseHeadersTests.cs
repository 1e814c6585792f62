using System.Net;

namespace Conveyor.AspNetCore.Tests;

/// <summary>The Jobs API's answers carry one tenant's data: no cache keeps them, no browser sniffs another type.</summary>
public sealed class ResponseHeadersTests
{
    [Theory]
    [InlineData("GET", "/jobs/{id}", HttpStatusCode.OK)]
    [InlineData("GET", "/jobs", HttpStatusCode.OK)]
    [InlineData("GET", "/jobs/job_00000000000000000000000000000000", HttpStatusCode.NotFound)]
    [InlineData("GET", "/jobs?status=NOPE", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/jobs?nope=1", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/jobs/{id}/cancel", HttpStatusCode.OK)]
    [InlineData("GET", "/schedules", HttpStatusCode.OK)]
    public async Task Answers_AreNotStored_AndNotSniffed(string method, string path, HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        using var response = await app.SendAsync(new HttpMethod(method), path.Replace("{id}", jobId, StringComparison.Ordinal));

        Assert.Equal(expected, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
    }

    // Refused before the endpoint's own filters run (the key is checked first): the answer still says no-store.
    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key-of-this-server-0123")]
    public async Task Unauthorized_IsNotStored_AndNotSniffed(string? key)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs", key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
    }
}
