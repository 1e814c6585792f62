using System.Net;

namespace Conveyor.AspNetCore.Tests;

public sealed class RoutingTests
{
    [Theory]
    [InlineData("GET", "/nothing-here")]
    [InlineData("GET", "/jobs/job_1/nothing")]
    [InlineData("POST", "/queues/default/explode")]
    public async Task UnknownRoute_Returns404(string method, string path)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(new HttpMethod(method), path);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("PUT", "/jobs")]
    [InlineData("DELETE", "/jobs")]
    [InlineData("PATCH", "/jobs/job_00000000000000000000000000000000")]
    [InlineData("GET", "/jobs/job_00000000000000000000000000000000/cancel")]
    [InlineData("DELETE", "/queues")]
    [InlineData("POST", "/healthz")]
    public async Task WrongMethod_Returns405(string method, string path)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(new HttpMethod(method), path);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Dashboard_IsAnHtmlPage()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/dashboard");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Conveyor", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
