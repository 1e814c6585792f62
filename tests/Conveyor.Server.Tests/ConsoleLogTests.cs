using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Conveyor.Server.Tests;

/// <summary>
/// Text a job brings (a payload a handler echoes in its exception or its own log line) reaches the server's console
/// with its control characters escaped: it starts no line of its own and sends the terminal no escape sequence.
/// </summary>
public sealed partial class ConsoleLogTests : IDisposable
{
    /// <summary>A line break, what a forged entry would say, a carriage return and colour sequences.</summary>
    private const string Forged = "\nfake line: fail: Conveyor.Server.Processor[5]\r\u001b[31mred\u001b[0m";

    private const string ForgedEscaped = @"\nfake line: fail: Conveyor.Server.Processor[5]\r\u001b[31mred\u001b[0m";

    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-console-").FullName;

    [Fact]
    public async Task AJobsText_InAHandlersException_AndInItsOwnLogLine_ReachesTheConsoleEscaped_OneLinePerEntry()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db") });
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        // The sample refuses a recipient without '@' with an exception that repeats it, and logs the one it sends to.
        var refused = await CreateAsync(http, new { type = "note:notify", payload = new { note_id = 1, recipient = "ada" + Forged } });
        var sent = await CreateAsync(http, new { type = "note:notify", payload = new { note_id = 2, recipient = "ada@example.com" + Forged } });
        await server.OutputMatchAsync($"{refused} .*for good", TimeSpan.FromSeconds(30), "log the refused job's failure");
        await server.OutputMatchAsync("share notification sent to ada@example.com", TimeSpan.FromSeconds(30), "log the notification it sent");
        await server.OutputMatchAsync($"{sent} .*success", TimeSpan.FromSeconds(30), "log the sent job's success");

        var output = server.Output;
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\r', output);
        var forgedLines = output.Split('\n').Where(static l => l.Contains("fake line", StringComparison.Ordinal)).ToList();
        // Two entries: the failure's line (its message, then its exception's text) and the handler's own line; the
        // forged text starts neither, nor a line of its own.
        Assert.Equal(2, forgedLines.Count);
        Assert.All(forgedLines, static l => Assert.Matches(EntryStart(), l));
        const string Refusal = "note_id must be positive and recipient an e-mail address; got 1 and 'ada" + ForgedEscaped + "'.";
        var failure = Assert.Single(forgedLines, l => l.Contains(refused, StringComparison.Ordinal));
        Assert.Contains("for good: " + Refusal + " (trace", failure, StringComparison.Ordinal);
        Assert.Contains("SkipRetryException: " + Refusal, failure, StringComparison.Ordinal);
        Assert.Single(forgedLines, static l => l.Contains("share notification sent to ada@example.com" + ForgedEscaped, StringComparison.Ordinal));
    }

    // An outside run switched to the JSON formatter as the docs say: its lines carried the plain-text time of day alone.
    [Fact]
    public async Task TheJsonFormatter_WritesAFullUtcTimestamp()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["Logging__Console__FormatterName"] = "json",
        });
        await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));

        var line = server.Output.Split('\n').First(static l => l.StartsWith('{') && l.Contains("\"Timestamp\"", StringComparison.Ordinal));
        var timestamp = JsonDocument.Parse(line).RootElement.GetProperty("Timestamp").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", timestamp);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<string> CreateAsync(HttpClient http, object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("/jobs", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
    }

    /// <summary>An entry's start in the server's single-line format: its time (HH:mm:ss.fff) and its level.</summary>
    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d{3} (trce|dbug|info|warn|fail|crit): ")]
    private static partial Regex EntryStart();
}
