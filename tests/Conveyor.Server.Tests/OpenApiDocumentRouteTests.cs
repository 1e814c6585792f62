using Conveyor.Tests.Http;

namespace Conveyor.Server.Tests;

/// <summary>The server has one OpenAPI document; a request for another is the API's 404, not the OpenAPI endpoint's own.</summary>
public sealed class OpenApiDocumentRouteTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-openapi-").FullName;

    [Fact]
    public async Task ADocumentOfAnotherName_Is404Problem_WhenJsonIsAccepted()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        var other = await RawHttp.SendAsync(address, "GET /openapi/v2.json HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
        var document = await RawHttp.SendAsync(address, "GET /openapi/v1.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 404 ", other, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", other, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("HTTP/1.1 200 ", document, StringComparison.Ordinal);
        Assert.Contains("\"openapi\"", document, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
