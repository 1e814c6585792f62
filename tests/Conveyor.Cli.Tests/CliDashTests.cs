using System.Diagnostics;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.Cli.Tests;

public sealed class CliDashTests
{
    private static ServerInfo Worker(DateTimeOffset now) => new()
    {
        Id = "worker-host-1:77",
        Host = "worker-host-1",
        ProcessId = 77,
        Queues = new Dictionary<string, int> { ["critical"] = 6, ["default"] = 3 },
        Concurrency = 20,
        ActiveJobs = 2,
        StartedAt = now.AddMinutes(-5),
        LastHeartbeatAt = now,
        ExpiresAt = now.AddMinutes(5),
    };

    [Fact]
    public async Task ServersLs_ListsTheLiveServersWithTheirQueuesAndWeights()
    {
        await using var server = await CliServer.StartAsync();
        await server.Store.HeartbeatServerAsync(Worker(DateTimeOffset.UtcNow), CancellationToken.None);

        var table = await server.RunAsync("servers", "ls");
        var json = await server.RunAsync("servers", "ls", "--json");

        Assert.Equal((0, 0), (table.ExitCode, json.ExitCode));
        Assert.Matches(@"worker-host-1:77\s+worker-host-1\s+77\s+critical \(6\), default \(3\)\s+2\s+20", table.Output);
        Assert.Equal(77, Assert.Single(JsonDocument.Parse(json.Output).RootElement.GetProperty("servers").EnumerateArray()).GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task DashOnce_PrintsQueuesServersAndTheNewestFailures()
    {
        await using var server = await CliServer.StartAsync();
        await server.Store.HeartbeatServerAsync(Worker(DateTimeOffset.UtcNow), CancellationToken.None);
        await server.Jobs.EnqueueAsync("note:archive", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "critical" });

        var run = await server.RunAsync("dash", "--once");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Queues", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"critical\s*│\s*1\s*│", run.Output);
        Assert.Contains("worker-host-1", run.Output, StringComparison.Ordinal);
        Assert.Contains("Newest failures", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DashOnce_ANewestFailuresRow_IsOneLine_WithTheIdWhole_AndTheErrorCutToTheWidth()
    {
        await using var server = await CliServer.StartAsync();
        var id = await server.FailedJobAsync("imports", CliTableTests.LongError);

        var run = await server.RunAtWidthAsync(150, "dash", "--once");

        Assert.True(run.ExitCode == 0, run.Error);
        var lines = run.Output.Split('\n');
        var row = Assert.Single(lines, line => line.Contains(id, StringComparison.Ordinal));
        Assert.Matches(@"note:archive\s*│\s*imports\s*│\s*\S+\s*│\s*Import failed at row 2.*…\s*│", row);
        Assert.True(row.TrimEnd().Length <= 150, row);
        Assert.Single(lines, line => line.Contains("Import failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DashOnce_AsJson_IsTheServersThreeAnswersInOneObject()
    {
        await using var server = await CliServer.StartAsync();
        await server.Store.HeartbeatServerAsync(Worker(DateTimeOffset.UtcNow), CancellationToken.None);
        await server.Jobs.EnqueueAsync("note:archive", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "critical" });

        var run = await server.RunAsync("dash", "--once", "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        var frame = JsonDocument.Parse(run.Output).RootElement;
        Assert.Equal(1, frame.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "critical").GetProperty("queued").GetInt64());
        Assert.Equal(77, Assert.Single(frame.GetProperty("servers").EnumerateArray()).GetProperty("pid").GetInt32());
        Assert.Equal(JsonValueKind.Array, frame.GetProperty("failures").ValueKind);
    }

    // An outside run froze the store under a running dash: the first 503 ended it (exit 1 after 2 frames), where the docs
    // promise a live view until Ctrl+C.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dash_ARefreshTheServerFails_ShowsTheReason_AndTheViewRecoversWhenItAnswersAgain(bool json)
    {
        await using var server = await CliServer.StartAsync();
        await server.Jobs.EnqueueAsync("note:archive", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "critical" });
        using var ctrlC = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var requests = 0;
        server.Answer = (request, response) =>
        {
            // A refresh is three requests: the 2nd and 3rd refreshes find the store frozen, the 4th finds it back, and
            // the 5th is where the user presses Ctrl+C.
            var n = Interlocked.Increment(ref requests);
            if (n > 12)
            {
                ctrlC.Cancel();
                return response;
            }

            return n is > 3 and <= 9 ? StoreOutage.Answer(request) : response;
        };

        var run = await server.RunUntilCancelledAsync(ctrlC.Token, json ? ["dash", "--interval", "0.2", "--json"] : ["dash", "--interval", "0.2"]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(requests > 12, "the run ended before Ctrl+C");
        if (json)
        {
            var frames = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
            Assert.True(frames[0].TryGetProperty("queues", out _), frames[0].GetRawText());
            foreach (var failed in frames[1..3])
            {
                Assert.StartsWith("GET /", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
                Assert.Contains("503", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
                Assert.True(failed.TryGetProperty("at", out _));
                Assert.False(failed.TryGetProperty("queues", out _));
            }

            Assert.Equal(1, frames[3].GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "critical").GetProperty("queued").GetInt64());
        }
        else
        {
            var failedLines = run.Output.Split('\n').Where(line => line.Contains("Refresh failed", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(failedLines);
            Assert.All(failedLines, line => Assert.Contains("503", line, StringComparison.Ordinal));
            var recovered = run.Output[run.Output.LastIndexOf("Refresh failed", StringComparison.Ordinal)..];
            Assert.Matches(@"critical\s*│\s*1\s*│", recovered);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dash_WithAKeyTheServerRefuses_StopsAtOnce(bool json)
    {
        await using var server = await CliServer.StartAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var run = await server.RunUntilCancelledAsync(deadline.Token, json ? ["dash", "--json", "--api-key", "not-a-key-0000000000000"] : ["dash", "--api-key", "not-a-key-0000000000000"]);

        Assert.Equal(ExitCodes.Unauthorized, run.ExitCode);
        Assert.Contains("401", run.Error, StringComparison.Ordinal);
    }

    // A mistyped host or port (connection refused, no such name) is as transient as a server restarting: since a failed
    // refresh kept the view running, it never exited, where it used to exit 3 at once. The first refresh still ends it.
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Dash_WhenTheFirstRefreshFails_ExitsWithItsCode_AsEveryCommandDoes(bool json, bool unreachable)
    {
        await using var server = await CliServer.StartAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        server.Answer = (request, _) => unreachable
            ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (localhost:8089)")
            : StoreOutage.Answer(request);

        var run = await server.RunUntilCancelledAsync(deadline.Token, json ? ["dash", "--interval", "0.2", "--json"] : ["dash", "--interval", "0.2"]);

        Assert.False(deadline.IsCancellationRequested, "dash went on refreshing until the test's deadline");
        Assert.Equal(unreachable ? ExitCodes.Unreachable : ExitCodes.Refused, run.ExitCode);
        Assert.Contains(unreachable ? "cannot be reached" : "503", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Refresh failed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dash_InARealTerminal_RedrawsUntilCtrlC()
    {
        var tmux = TmuxSession.Find();
        if (tmux is null)
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase), "tmux is missing: the test command installs it (eng/services/tmux.sh)");
            return;
        }

        await using var server = await CliServer.StartAsync(kestrel: true);
        await server.Jobs.EnqueueAsync("note:archive", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "low" });
        var tool = Path.Combine(AppContext.BaseDirectory, "Conveyor.Cli.dll");
        await using var session = await TmuxSession.StartAsync(
            tmux,
            $"CONVEYOR_API_KEY={CliServer.AdminKey} dotnet '{tool}' dash --interval 0.5 --url {server.Address}; echo EXITED $?");

        var first = await session.WaitForScreenAsync(screen => screen.Contains("low", StringComparison.Ordinal) && screen.Contains("Servers", StringComparison.Ordinal));
        await server.Jobs.EnqueueAsync("note:archive", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "urgent-reports" });
        await session.WaitForScreenAsync(screen => screen.Contains("urgent-reports", StringComparison.Ordinal));
        await session.SendKeysAsync("C-c");
        var last = await session.WaitForScreenAsync(screen => screen.Contains("EXITED 0", StringComparison.Ordinal));

        Assert.Contains("Queues", first, StringComparison.Ordinal);
        Assert.Contains("urgent-reports", last, StringComparison.Ordinal);
    }
}

/// <summary>A detached tmux session running one command in a 160×50 terminal, whose screen the test reads.</summary>
internal sealed class TmuxSession : IAsyncDisposable
{
    private readonly string _tmux;
    private readonly string _name = "conveyor-cli-" + Guid.NewGuid().ToString("N")[..8];

    private TmuxSession(string tmux) => _tmux = tmux;

    public static string? Find() =>
        new[] { "/usr/bin/tmux", "/usr/local/bin/tmux" }.FirstOrDefault(File.Exists);

    public static async Task<TmuxSession> StartAsync(string tmux, string command)
    {
        var session = new TmuxSession(tmux);
        await session.RunAsync("new-session", "-d", "-s", session._name, "-x", "160", "-y", "50", command);
        await session.RunAsync("set-option", "-t", session._name, "remain-on-exit", "on");
        return session;
    }

    public Task SendKeysAsync(string keys) => RunAsync("send-keys", "-t", _name, keys);

    /// <summary>Reads the screen until <paramref name="condition"/> holds; fails after 30 s with the last screen.</summary>
    public async Task<string> WaitForScreenAsync(Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var screen = await RunAsync("capture-pane", "-p", "-t", _name);
            if (condition(screen))
            {
                return screen;
            }

            Assert.True(DateTime.UtcNow < deadline, "the terminal never showed what was expected; it shows:\n" + screen);
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("kill-session", "-t", _name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(_tmux) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {error}");
        }

        return output;
    }
}
