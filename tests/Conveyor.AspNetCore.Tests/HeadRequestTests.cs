using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>RFC 9110 §9.1: every GET of the Jobs API answers HEAD with the GET's status and headers and no body.</summary>
public sealed class HeadRequestTests
{
    [Fact]
    public async Task Head_OfTheApisGets_IsTheGetsStatusAndHeaders_WithoutABody()
    {
        await using var app = await TestApp.StartAsync(withKeys: true, kestrel: true);
        using var client = new HttpClient { BaseAddress = app.Address };
        var jobId = (await app.Services.GetRequiredService<IJobClient>().EnqueueAsync("test:noop", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a" })).JobId;

        foreach (var (path, key, status) in new[]
        {
            ($"/jobs/{jobId}", TestApp.KeyA, HttpStatusCode.OK),
            ("/jobs?limit=1", TestApp.KeyA, HttpStatusCode.OK),
            ("/jobs/job_00000000000000000000000000000000", TestApp.KeyA, HttpStatusCode.NotFound),
            ("/queues", TestApp.AdminKey, HttpStatusCode.OK),
            ("/queues", TestApp.KeyA, HttpStatusCode.Forbidden),
            ("/jobs?colour=red", TestApp.KeyA, HttpStatusCode.BadRequest),
            ("/jobs", null, HttpStatusCode.Unauthorized),
            ("/metrics", null, HttpStatusCode.OK),
            ("/dashboard", null, HttpStatusCode.OK),
            ("/dashboard/app.js", null, HttpStatusCode.OK),
            ("/dashboard/nothing.js", null, HttpStatusCode.NotFound),
        })
        {
            using var get = await SendAsync(client, HttpMethod.Get, path, key);
            using var head = await SendAsync(client, HttpMethod.Head, path, key);

            Assert.Equal((path, status), (path, get.StatusCode));
            Assert.Equal((path, status), (path, head.StatusCode));
            Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Head_OfAPathThatOnlyTakesPost_IsStill405()
    {
        await using var app = await TestApp.StartAsync(kestrel: true);
        using var client = new HttpClient { BaseAddress = app.Address };

        using var head = await SendAsync(client, HttpMethod.Head, "/jobs/job_00000000000000000000000000000000/retry", null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocument_HasNoHeadOperations()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/openapi/v1.json");

        var document = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("\"head\"", document, StringComparison.Ordinal);
        Assert.Contains("\"get\"", document, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? key)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return await client.SendAsync(request);
    }
}
