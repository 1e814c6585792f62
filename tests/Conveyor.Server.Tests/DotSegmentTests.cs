using Conveyor.Tests.Http;

namespace Conveyor.Server.Tests;

/// <summary>
/// The server refuses a path with a '.' or '..' segment before routing, so every endpoint answers it with the Jobs
/// API's 400 problem, not routing's 404 or 405 for the path the dots would make of it.
/// </summary>
public sealed class DotSegmentTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-dots-").FullName;

    [Fact]
    public async Task APathWithADotSegment_Is400Problem_AtEveryEndpoint()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));
        string[] requestLines =
        [
            "DELETE /jobs/.", "DELETE /jobs/%2e%2E", "POST /jobs/./cancel", "GET /batches/.", "PUT /schedules/..",
            "PUT /limits/concurrency/.", "POST /queues/../pause", "GET /jobs/%2E", "POST /jobs/job_1/signals/..",
            "GET /workflows/./x", "POST /notes/./archive",
        ];

        foreach (var requestLine in requestLines)
        {
            var response = await RawHttp.SendAsync(address, $"{requestLine} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");

            Assert.True(response.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal), $"{requestLine}: {response}");
            Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\"", response, StringComparison.Ordinal);
            Assert.Contains("'.' or '..' segment", response, StringComparison.Ordinal);
        }

        var dotsInASegment = await RawHttp.SendAsync(address, "GET /jobs/job.with.dots HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 404 ", dotsInASegment, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
