using System.Net;
using System.Text.Json;

namespace Conveyor.Server.Tests.SampleJobs;

/// <summary>
/// The sample endpoints refuse a query parameter as the Jobs API's do (none reads one): an operator's <c>?tenant=</c>
/// must not archive a note in the caller's own tenant instead.
/// </summary>
public sealed class SampleQueryParameterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-sample-query-").FullName;

    [Fact]
    public async Task EverySampleEndpoint_RefusesAQueryParameter_NamingIt_AndStoresNothing()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        using var client = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Post, "/notes/7/archive?tenant=acme"), (HttpMethod.Post, "/notes/7/created?tenant=acme"),
            (HttpMethod.Get, "/inventory?sku=x"), (HttpMethod.Get, "/reports/job_1.csv?tenant=acme"),
        })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, path));
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}: {(int)response.StatusCode} {problem}");
            Assert.True(problem.GetProperty("errors").EnumerateObject().Any(), $"{method} {path}: {problem}");
        }

        // Neither the archive nor the note-created event's subscribers were enqueued (a sample schedule may have run).
        using var jobs = await client.GetAsync("/jobs");
        var types = JsonDocument.Parse(await jobs.Content.ReadAsStringAsync()).RootElement.GetProperty("jobs").EnumerateArray()
            .Select(static j => j.GetProperty("type").GetString()).ToList();
        Assert.DoesNotContain(types, static t => t == "note:archive" || t!.StartsWith("note:created.", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
