using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// What every operation with a JSON body checks where the body is read: the media type the document lists
/// (<c>application/json</c>, UTF-8) and bytes that are UTF-8; a refusal stores nothing.
/// </summary>
public sealed class RequestBodyTests
{
    /// <summary>Each operation with a body, with a body it accepts.</summary>
    public static TheoryData<string, string, string> Operations => new()
    {
        { "POST", "/jobs", """{"type": "test:noop", "payload": {"text": "ok"}}""" },
        { "POST", "/jobs/bulk", """{"action": "retry", "filter": {"queue": "ok"}}""" },
        { "POST", "/batches", """{"jobs": [{"type": "test:noop", "payload": {"text": "ok"}}]}""" },
        { "POST", "/workflows", """{"name": "ok", "steps": [{"name": "a", "job": {"type": "test:noop", "payload": {"text": "ok"}}}]}""" },
        { "POST", "/schedules", """{"name": "ok", "cron": "0 * * * *", "job_type": "test:noop", "payload": {"text": "ok"}}""" },
        { "PUT", "/schedules/ok", """{"cron": "0 * * * *", "job_type": "test:noop", "payload": {"text": "ok"}}""" },
        { "PUT", "/limits/concurrency/ok", """{"queue": "ok", "max": 1}""" },
    };

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string method, string path, byte[] body, string? contentType)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Body_SentToAnEndpointThatTakesNone_IsIgnored_WhateverItsTypeOrSize()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        // Over Conveyor:Api:MaxRequestBytes and not JSON: the cancel reads no body, so neither 413 nor 415 (docs/jobs-api.md).
        using var response = await SendAsync(app, "POST", $"/jobs/{jobId}/cancel", new byte[3 * 1024 * 1024], "text/plain");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CANCELLED", (await ProblemAssert.ReadJsonAsync(response)).GetProperty("status").GetString());
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Body_WithInvalidUtf8InAString_Is400NotUtf8_AndStoresNothing(string method, string path, string valid)
    {
        await using var app = await TestApp.StartAsync();
        var body = Encoding.UTF8.GetBytes(valid.Replace("\"ok\"", "\"o\u00ffk\"", StringComparison.Ordinal));
        Array.Copy(new byte[] { 0xED, 0xA0, 0x80 }, 0, body, Array.IndexOf(body, (byte)0xC3), 3); // an encoded surrogate where ÿ was

        using var response = await SendAsync(app, method, path, body, "application/json");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "body");
        Assert.Contains("not valid UTF-8", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Body_AcceptedAsApplicationJson_WithOrWithoutCharsetUtf8(string method, string path, string valid)
    {
        await using var app = await TestApp.StartAsync();

        using var plain = await SendAsync(app, method, path, Encoding.UTF8.GetBytes(valid), "application/json");
        using var utf8 = await SendAsync(app, method, path.Replace("ok", "ok2", StringComparison.Ordinal), Encoding.UTF8.GetBytes(valid.Replace("ok", "ok2", StringComparison.Ordinal)), "application/json; charset=UTF-8");
        // The same parameter quoted (RFC 9110 §5.6.6) is the same charset.
        using var quoted = await SendAsync(app, method, path.Replace("ok", "ok3", StringComparison.Ordinal), Encoding.UTF8.GetBytes(valid.Replace("ok", "ok3", StringComparison.Ordinal)), "application/json; charset=\"utf-8\"");

        Assert.True((int)plain.StatusCode < 300, await plain.Content.ReadAsStringAsync());
        Assert.True((int)utf8.StatusCode < 300, await utf8.Content.ReadAsStringAsync());
        Assert.True((int)quoted.StatusCode < 300, await quoted.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Body_WithAnotherMediaTypeOrNone_Is415_AndStoresNothing(string method, string path, string valid)
    {
        await using var app = await TestApp.StartAsync();
        foreach (var contentType in new[] { null, "application/problem+json", "application/vnd.api+json", "application/merge-patch+json", "application/json; charset=latin1", "text/json" })
        {
            using var response = await SendAsync(app, method, path, Encoding.UTF8.GetBytes(valid), contentType);

            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        }

        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData(new byte[] { 0x22, 0xFF, 0x22 })]
    [InlineData(new byte[] { 0x7B, 0x22, 0x62, 0x79, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D })]
    [InlineData(new byte[] { 0x22, 0xED, 0xA0, 0x80, 0x22 })]
    public async Task Signal_WithABodyThatIsNotUtf8_Is400_AndStoresNoStep(byte[] body)
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync("test:approval");

        using var response = await SendAsync(app, "POST", $"/jobs/{jobId}/signals/approved", body, "application/json");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "body");
        Assert.Empty(await app.Store.GetStepsAsync(TenantId.Default, jobId, CancellationToken.None) ?? []);
    }

    [Fact]
    public async Task Signal_WithNoBody_NeedsNoContentType_ButABodyDoes()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync("test:approval");

        using var withBody = await SendAsync(app, "POST", $"/jobs/{jobId}/signals/approved", "{}"u8.ToArray(), null);
        using var empty = await SendAsync(app, "POST", $"/jobs/{jobId}/signals/approved", [], null);

        await ProblemAssert.IsProblemAsync(withBody, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal(HttpStatusCode.Accepted, empty.StatusCode);
    }
}
