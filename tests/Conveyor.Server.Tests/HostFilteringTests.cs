using Conveyor.Tests.Http;

namespace Conveyor.Server.Tests;

/// <summary>
/// Without keys the server answers only requests that name it by a loopback name: a DNS-rebinding page (its own name
/// resolving to 127.0.0.1) would otherwise read and change everything through the visitor's browser.
/// </summary>
public sealed class HostFilteringTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-hosts-").FullName;

    [Fact]
    public async Task WithoutKeys_OnlyLoopbackHostNamesAreAnswered_WithAnyPort()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        foreach (var host in new[] { $"localhost:{address.Port}", "127.0.0.1:1", "[::1]:8080", "LOCALHOST" })
        {
            Assert.StartsWith("HTTP/1.1 200 ", await GetAsync(address, "/jobs", host), StringComparison.Ordinal);
        }

        // An empty Host names no loopback name either.
        foreach (var host in new[] { $"evil.example:{address.Port}", "evil.example", "127.0.0.1.evil.example", "localhost.evil.example:8080", "" })
        {
            Assert.StartsWith("HTTP/1.1 400 ", await GetAsync(address, "/jobs", host), StringComparison.Ordinal);
            Assert.StartsWith("HTTP/1.1 400 ", await GetAsync(address, "/dashboard", host), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ARefusedHost_IsAProblemNamingIt_OnTheApiTheMetricsAndTheDashboard()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        foreach (var path in new[] { "/jobs", "/metrics", "/dashboard", "/openapi/v1.json", "/no-such-path" })
        {
            var answer = await GetAsync(address, path, "evil.example:8080");

            Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
            Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.OrdinalIgnoreCase);
            using var problem = System.Text.Json.JsonDocument.Parse(answer[answer.IndexOf('{', StringComparison.Ordinal)..(answer.LastIndexOf('}') + 1)]);
            Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
            Assert.Contains("'evil.example:8080'", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // The OpenAPI document declares that problem where a 400 was only the server's bodiless answer before.
        using var client = new HttpClient { BaseAddress = address };
        using var openApi = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        foreach (var path in new[] { "/metrics", "/healthz", "/readyz", "/jobs" })
        {
            var badRequest = openApi.RootElement.GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("400");
            Assert.True(badRequest.GetProperty("content").TryGetProperty("application/problem+json", out _), path);
        }
    }

    [Fact]
    public async Task WithoutKeys_ALoopbackAddressTheServerListensOn_IsAnsweredToo()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["ASPNETCORE_URLS"] = "http://127.0.0.2:0",
        });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 200 ", await GetAsync(address, "/jobs", $"127.0.0.2:{address.Port}"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 400 ", await GetAsync(address, "/jobs", "127.0.0.3"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutKeys_AllowedHostsTheOperatorSet_IsKept()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["AllowedHosts"] = "conveyor.internal",
        });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 200 ", await GetAsync(address, "/jobs", "conveyor.internal:8080"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 400 ", await GetAsync(address, "/jobs", "localhost"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithKeys_EveryHostIsAnswered_AsBefore()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["Conveyor__Api__Keys__0__Key"] = "a-key-long-enough-0123456789",
            ["Conveyor__Api__Keys__0__Tenant"] = "acme",
        });
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 200 ", await GetAsync(address, "/healthz", "conveyor.example.com"), StringComparison.Ordinal);
    }

    private static Task<string> GetAsync(Uri address, string path, string host) =>
        RawHttp.SendAsync(address, $"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
