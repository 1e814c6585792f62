using Conveyor.Tests.Http;

namespace Conveyor.Server.Tests;

/// <summary>
/// Routing's own answers (a 404 for a path no route matches, a 405 for a method the path's routes do not take) carry
/// the Jobs API's headers like every other answer of the server (outside run CQ: they had neither).
/// </summary>
public sealed class UnroutedAnswerHeadersTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-unrouted-").FullName;

    [Fact]
    public async Task RoutingsOwnAnswers_AreNotStored_AndNotSniffed()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));
        string[] requestLines = ["PUT /schedules/a/b", "GET /jobs/a/b/c", "DELETE /caller", "GET /no-such-path"];

        foreach (var requestLine in requestLines)
        {
            var response = await RawHttp.SendAsync(address, $"{requestLine} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");

            Assert.True(response.StartsWith("HTTP/1.1 404 ", StringComparison.Ordinal) || response.StartsWith("HTTP/1.1 405 ", StringComparison.Ordinal), $"{requestLine}: {response}");
            Assert.Contains("Cache-Control: no-store", response, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("X-Content-Type-Options: nosniff", response, StringComparison.OrdinalIgnoreCase);
        }

        // An endpoint's own caching stays: the dashboard's files are revalidated, not refused to caches.
        var dashboard = await RawHttp.SendAsync(address, "GET /dashboard/app.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        Assert.Contains("Cache-Control: no-cache", dashboard, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
