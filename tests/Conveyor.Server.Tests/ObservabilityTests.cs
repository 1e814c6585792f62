using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>
/// What operators point at Conveyor, checked by the real tools: promtool reads the /metrics body and the alert rules,
/// and a real Prometheus scrapes a real server under a mixed load while every panel query of deploy/grafana's
/// dashboards is evaluated through its HTTP API.
/// </summary>
public sealed class ObservabilityTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-obs-").FullName;
    private readonly string _run = Guid.NewGuid().ToString("N")[..10];

    private string WorkQueue => "obs" + _run;

    private string PausedQueue => "obs" + _run + "-paused";

    private Dictionary<string, string> Settings() => new()
    {
        ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
        ["Conveyor__Server__Concurrency"] = "8",
        [$"Conveyor__Server__Queues__{WorkQueue}"] = "3",
        [$"Conveyor__Server__Queues__{PausedQueue}"] = "1",
        ["Conveyor__Metrics__StoreGaugesInterval"] = "00:00:01",
        // A schedule that fires every second, for the schedule panel.
        ["Conveyor__Schedules__0__Name"] = "obs-every-second",
        ["Conveyor__Schedules__0__Cron"] = "* * * * * *",
        ["Conveyor__Schedules__0__JobType"] = "demo:sleep",
        ["Conveyor__Schedules__0__Payload"] = """{"seconds": 0}""",
        ["Conveyor__Schedules__0__Queue"] = WorkQueue,
        ["Conveyor__Schedules__0__Overlap"] = "SkipWhileUnfinished",
    };

    [PrometheusFact]
    public async Task MetricsBody_OfAServerThatRanJobs_PassesPromtoolCheckMetrics()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };
        await EnqueueAsync(http, WorkQueue, """{"seconds": 0}""");
        await EnqueueAsync(http, WorkQueue, """{"seconds": -1}""");
        // The store gauges are cached for a second: wait until they show the failed job too.
        var body = await WaitForMetricsAsync(http, $"job_queue_size{{queue=\"{WorkQueue}\",state=\"failed\"}} 1");

        var (exitCode, text) = await PrometheusTestEnvironment.PromtoolAsync(_directory, body, "check", "metrics");

        Assert.True(exitCode == 0, $"promtool check metrics: exit {exitCode}\n{text}\n--- body ---\n{body}");
        Assert.Contains($"job_processed_total{{task_type=\"demo:sleep\",queue=\"{WorkQueue}\",status=\"failed\"}} 1", body, StringComparison.Ordinal);
    }

    [PrometheusFact]
    public async Task AlertRules_PassPromtoolCheckRules_AndTheirUnitTests()
    {
        var directory = Path.Combine(PrometheusTestEnvironment.RepositoryRoot, "deploy", "prometheus");

        var check = await PrometheusTestEnvironment.PromtoolAsync(directory, null, "check", "rules", "alerts.yml");
        var test = await PrometheusTestEnvironment.PromtoolAsync(directory, null, "test", "rules", "alerts.test.yml");
        var config = await PrometheusTestEnvironment.PromtoolAsync(directory, null, "check", "config", "prometheus.yml");

        Assert.True(check.ExitCode == 0, check.Output);
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.True(config.ExitCode == 0, config.Output);
        foreach (var alert in new[] { "ConveyorQueueLatencyHigh", "ConveyorFailureRatioHigh", "ConveyorNoServerAlive", "ConveyorStoreUnreachable", "ConveyorStoreRefusing", "ConveyorLeaseRecoveriesSpiking", "ConveyorJobsFailedByRecovery", "ConveyorJobsStuckRunning" })
        {
            Assert.Contains("alert: " + alert, await File.ReadAllTextAsync(Path.Combine(directory, "alerts.yml")), StringComparison.Ordinal);
        }
    }

    [PrometheusFact]
    public async Task EveryDashboardPanel_ReturnsData_FromARealPrometheus_ScrapingAServerUnderMixedLoad()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        var address = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = address };
        using var prometheus = new HttpClient { BaseAddress = PrometheusTestEnvironment.Address, Timeout = TimeSpan.FromSeconds(10) };
        var target = Path.Combine(PrometheusTestEnvironment.TargetsDirectory!, _run + ".json");
        await File.WriteAllTextAsync(target + ".tmp", $$$"""[{"targets": ["{{{address.Authority}}}"], "labels": {"run": "{{{_run}}}"}}]""");
        File.Move(target + ".tmp", target);
        try
        {
            using var pause = await http.PostAsync($"/queues/{PausedQueue}/pause", null);
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            await EnqueueAsync(http, PausedQueue, """{"seconds": 0}""");
            await EnqueueAsync(http, WorkQueue, """{"seconds": 600}""");
            using var load = new CancellationTokenSource();
            var producer = ProduceAsync(http, load.Token);

            await WaitForAsync(prometheus, $"up{{run=\"{_run}\"}} == 1", TimeSpan.FromSeconds(60), "Prometheus never scraped the server");
            var missing = new List<string>();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            foreach (var file in new[] { "service.json", "jobs.json" })
            {
                using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(PrometheusTestEnvironment.RepositoryRoot, "deploy", "grafana", "dashboards", file)));
                var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
                Assert.NotEmpty(panels);
                foreach (var panel in panels)
                {
                    foreach (var query in panel.GetProperty("targets").EnumerateArray())
                    {
                        var expr = Substitute(query.GetProperty("expr").GetString()!);
                        var (hasData, last) = await QueryUntilDataAsync(prometheus, expr, deadline);
                        output.WriteLine($"{file} / {panel.GetProperty("title").GetString()}: {(hasData ? "data" : "NO DATA")} {expr} -> {last}");
                        if (!hasData)
                        {
                            missing.Add($"{file} / {panel.GetProperty("title").GetString()}: {expr} -> {last}");
                        }
                    }
                }
            }

            await load.CancelAsync();
            await producer;
            Assert.True(missing.Count == 0, "Panels without data:\n" + string.Join('\n', missing) + "\n--- server ---\n" + server.Output);
        }
        finally
        {
            File.Delete(target);
        }
    }

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

    /// <summary>The dashboard's variables as Grafana would substitute them with this run's queues and job type selected.</summary>
    private string Substitute(string expr) => expr
        .Replace("$__rate_interval", "20s", StringComparison.Ordinal)
        .Replace("$job", ".*", StringComparison.Ordinal)
        .Replace("$queue", $"{WorkQueue}|{PausedQueue}", StringComparison.Ordinal)
        .Replace("$task_type", "demo:sleep", StringComparison.Ordinal);

    /// <summary>Successes, failures (skip-retry), attempts that time out and are retried, until cancelled.</summary>
    private async Task ProduceAsync(HttpClient http, CancellationToken cancellationToken)
    {
        for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            // Every tenth job outlasts its timeout: its attempt fails and is retried.
            var (payload, extra) = (i % 10) switch
            {
                3 or 8 => ("""{"seconds": -1}""", ""),
                7 => ("""{"seconds": 2}""", """, "timeout_seconds": 0.2, "max_retry": 1"""),
                _ => ("""{"seconds": 0}""", ""),
            };
            await EnqueueAsync(http, WorkQueue, payload, extra);
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task EnqueueAsync(HttpClient http, string queue, string payload, string extra = "")
    {
        using var content = new StringContent($$"""{"type": "demo:sleep", "queue": "{{queue}}", "payload": {{payload}}{{extra}}}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/jobs", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> WaitForMetricsAsync(HttpClient http, string line)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var body = await http.GetStringAsync("/metrics");
            if (body.Contains(line, StringComparison.Ordinal))
            {
                return body;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no '{line}' in /metrics:\n{body}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitForAsync(HttpClient prometheus, string expr, TimeSpan timeout, string message)
    {
        var (hasData, last) = await QueryUntilDataAsync(prometheus, expr, DateTime.UtcNow + timeout);
        Assert.True(hasData, $"{message}: {expr} -> {last}");
    }

    /// <summary>Evaluates <paramref name="expr"/> until it returns at least one sample that is a number (not NaN), or the deadline passes.</summary>
    private static async Task<(bool HasData, string Last)> QueryUntilDataAsync(HttpClient prometheus, string expr, DateTime deadline)
    {
        var last = "";
        while (true)
        {
            using var response = await prometheus.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(expr));
            last = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"Prometheus refused {expr}: {last}");
            using var json = JsonDocument.Parse(last);
            var result = json.RootElement.GetProperty("data").GetProperty("result");
            if (result.EnumerateArray().Any(series => series.GetProperty("value")[1].GetString() is { } value && value != "NaN"))
            {
                return (true, last);
            }

            if (DateTime.UtcNow > deadline)
            {
                return (false, last);
            }

            await Task.Delay(500);
        }
    }
}
