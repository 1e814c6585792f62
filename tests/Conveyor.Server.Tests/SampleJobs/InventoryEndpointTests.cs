using System.Net;
using System.Text.Json;

namespace Conveyor.Server.Tests.SampleJobs;

/// <summary><c>GET /inventory</c> reads the sample's own SQLite file: before any import, and when that file cannot be read.</summary>
public sealed class InventoryEndpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-inventory-").FullName;

    /// <summary>
    /// An outside run: the first <c>GET /inventory</c> on a full disk answered 500, creating the file it reads; a read
    /// now leaves an absent file absent, and a file SQLite cannot read answers 503 with SQLite's reason (without
    /// Retry-After for a file that is not a database: waiting will not mend it).
    /// </summary>
    [Fact]
    public async Task BeforeAnyImport_TheInventoryIsEmpty_AndNoFileIsCreated_AndAnUnreadableFileAnswers503NamingWhy()
    {
        var samples = Path.Combine(_directory, "samples.db");
        using (var server = Start())
        {
            using var client = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };
            using var empty = await client.GetAsync("/inventory");

            Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
            Assert.Equal("[]", await empty.Content.ReadAsStringAsync());
            Assert.False(File.Exists(samples));
        }

        await File.WriteAllTextAsync(samples, "this is not a SQLite database, and is longer than its header of one hundred bytes; " + new string('x', 200));
        using (var server = Start())
        {
            using var client = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };
            using var broken = await client.GetAsync("/inventory");
            var problem = JsonDocument.Parse(await broken.Content.ReadAsStringAsync()).RootElement;

            Assert.True(broken.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)broken.StatusCode} {problem}");
            Assert.Null(broken.Headers.RetryAfter);
            Assert.Contains("samples.db", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("not a database", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    private WorkerProcess Start() =>
        WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
