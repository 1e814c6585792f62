using System.Net;

namespace Conveyor.Server.Tests;

/// <summary>
/// RFC 9110 §9.1, as the Jobs API documents it: what the server answers to GET it answers to HEAD, also on the endpoints
/// the server maps beside the Jobs API (the OpenAPI document, the sample endpoints, metrics, the dashboard).
/// </summary>
public sealed class HeadRequestTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-head-").FullName;

    [Fact]
    public async Task EveryGetTheServerMaps_AnswersHead_WithTheGetsStatusAndNoBody()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        using var client = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        foreach (var path in new[] { "/openapi/v1.json", "/inventory", "/reports/job_00000000000000000000000000000000.csv", "/metrics", "/dashboard", "/jobs" })
        {
            using var get = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, path));
            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

            Assert.Equal((path, get.StatusCode), (path, head.StatusCode));
            Assert.NotEqual(HttpStatusCode.MethodNotAllowed, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
