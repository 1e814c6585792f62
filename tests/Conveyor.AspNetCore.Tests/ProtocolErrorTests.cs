using Conveyor.Tests.Http;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// Requests that only a real HTTP server parses, sent as raw bytes to Kestrel: what reaches the application is answered
/// as problem+json; what Kestrel refuses before any application code runs is documented in docs/jobs-api.md.
/// </summary>
public sealed class ProtocolErrorTests
{
    [Theory]
    [InlineData("zz")]
    [InlineData("80000000")] // over int.MaxValue: Kestrel fails it as a plain IOException, not a BadHttpRequestException
    [InlineData("ffffffffffffffff")]
    public async Task MalformedChunkedBody_Returns400Problem_Not500(string chunkSize)
    {
        await using var app = await TestApp.StartAsync(kestrel: true);

        var response = await RawHttp.SendAsync(app.Address, $"POST /jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunkSize}\r\n{{}}\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"status\":400", response, StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Returns413ProblemWithTheSize()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "1024" }, kestrel: true);
        var chunk = new string('x', 4000);

        var response = await RawHttp.SendAsync(app.Address, $"POST /jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunk.Length:x}\r\n{chunk}\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 413 ", response, StringComparison.Ordinal);
        Assert.Matches(@"body: at least \d+ bytes; the limit \(Conveyor:Api:MaxRequestBytes\) is 1024 bytes\.", response);
    }

    [Theory]
    [InlineData("GET /jobs/.")]
    [InlineData("GET /jobs/%2E")]
    [InlineData("GET /jobs/job_1/..")]
    [InlineData("GET /schedules/.?limit=1")]
    public async Task APathWithADotSegment_Is400_NotTheRouteTheServerWouldMakeOfIt(string requestLine)
    {
        // The server removes dot segments before routing: GET /jobs/. would otherwise answer the listing.
        await using var app = await TestApp.StartAsync(kestrel: true);

        var response = await RawHttp.SendAsync(app.Address, $"{requestLine} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("'.' or '..' segment", response, StringComparison.Ordinal);
        // Refused before routing, it still carries the headers of every answer of the API.
        Assert.Contains("Cache-Control: no-store", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("X-Content-Type-Options: nosniff", response, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("DELETE /jobs/%2e%2E")]
    [InlineData("POST /jobs/./cancel")]
    [InlineData("POST /queues/../pause")]
    public async Task APathWithADotSegmentThatLeadsToNoRoute_IsNotTakenAsAnother(string requestLine)
    {
        // What is left after the dots are removed matches no Conveyor endpoint: routing answers 404 or 405.
        await using var app = await TestApp.StartAsync(kestrel: true);

        var response = await RawHttp.SendAsync(app.Address, $"{requestLine} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");

        Assert.Matches("^HTTP/1.1 (400|404|405) ", response);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task APathWithDotsInsideASegment_IsAnsweredAsUsual()
    {
        await using var app = await TestApp.StartAsync(kestrel: true);

        var response = await RawHttp.SendAsync(app.Address, "GET /jobs/job.with.dots HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 404 ", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET /jobs/job_%00 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")]
    [InlineData("GET /jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Api-Key: \u00ff\u00fe\r\n\r\n")]
    public async Task RefusedByKestrelBeforeTheApplication_IsAnEmpty400_AsDocumented(string request)
    {
        // ASP.NET Core has no hook for these (dotnet/aspnetcore#4726): the connection is closed with an empty 400.
        await using var app = await TestApp.StartAsync(kestrel: true);

        var response = await RawHttp.SendAsync(app.Address, request);

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Length: 0", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AHeaderValueInValidUtf8_ReachesTheApplication_WhichAnswersAProblemNamingIt()
    {
        // Kestrel decodes header values as UTF-8: only bytes that are not UTF-8 get its empty 400 (above).
        await using var app = await TestApp.StartAsync(kestrel: true);
        var utf8 = System.Text.Encoding.Latin1.GetString(System.Text.Encoding.UTF8.GetBytes("clé"));

        var response = await RawHttp.SendAsync(app.Address, $"POST /jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nIdempotency-Key: {utf8}\r\nContent-Length: 21\r\n\r\n{{\"type\": \"test:noop\"}}");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"detail\":\"Idempotency-Key: ", response, StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task ABodyThatDoesNotArrive_Is408AsAProblem_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync(kestrel: true);

        // Kestrel times the body out at its minimum data rate's grace period (5 s): fewer bytes than Content-Length.
        var response = await RawHttp.SendAsync(app.Address, "POST /jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":");

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await app.StoredJobsAsync());
    }
}
