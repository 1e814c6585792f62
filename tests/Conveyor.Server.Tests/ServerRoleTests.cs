using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Conveyor.Server.Tests;

/// <summary>Conveyor:Role: one process serves the API and the dashboard, another runs the jobs, on one store.</summary>
public sealed class ServerRoleTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-roles-").FullName;

    [Theory]
    [InlineData(null, "all")]
    [InlineData("", "all")]
    [InlineData("all", "all")]
    [InlineData("api", "api")]
    [InlineData("Worker", "worker")]
    public void Configured_ReadsTheRole_AllByDefault(string? value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ServerRole.SettingKey] = value }).Build();

        Assert.Equal(expected, ServerRole.Configured(configuration).Name);
    }

    [Fact]
    public void Configured_UnknownRole_IsRefusedNamingTheSettingAndWhatItAccepts()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Role"] = "workers" }).Build();

        var error = Assert.Throws<InvalidSettingException>(() => ServerRole.Configured(configuration));

        Assert.Equal("Conveyor:Role is 'workers'; it accepts one of: all, api, worker.", error.Message);
    }

    [Fact]
    public async Task QueuesFromTheEnvironment_ReplaceTheDefaultList()
    {
        using var server = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "queues.db"),
            ["Conveyor__Server__Queues__billing"] = "5",
        });

        var started = await server.OutputMatchAsync(@"started on store .*queues (.*)\r?\n", TimeSpan.FromSeconds(30), "start its workers");

        Assert.Equal("billing=5", started.Groups[1].Value);
    }

    [Fact]
    public async Task ApiServerAndWorkerServer_OnOneStore_TheWorkerRunsWhatTheApiAccepted_EachServesOnlyItsRole()
    {
        var database = Path.Combine(_directory, "jobs.db");
        using var api = WorkerProcess.Start(_directory, new Dictionary<string, string> { ["Conveyor__Role"] = "api", ["Conveyor__Sqlite__Path"] = database });
        using var worker = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Role"] = "worker",
            ["Conveyor__Sqlite__Path"] = database,
            ["Conveyor__Server__Concurrency"] = "2",
            ["Conveyor__Samples__ReportStepDelay"] = "00:00:00.010",
        });
        using var apiHttp = new HttpClient { BaseAddress = await api.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };
        using var workerHttp = new HttpClient { BaseAddress = await worker.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        using var created = await apiHttp.PostAsync("/jobs", new StringContent("""{"type": "report:generate", "payload": {"rows": 20}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        await WaitForSuccessAsync(apiHttp, jobId, api, worker);

        var workerMetrics = await workerHttp.GetStringAsync("/metrics");
        var apiMetrics = await apiHttp.GetStringAsync("/metrics");
        Assert.Contains("job_processed_total{task_type=\"report:generate\",queue=\"default\",status=\"success\"} 1", workerMetrics, StringComparison.Ordinal);
        Assert.DoesNotContain("job_processed_total{", apiMetrics, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await apiHttp.GetAsync("/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await workerHttp.GetAsync($"/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await workerHttp.GetAsync("/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await workerHttp.GetAsync("/healthz")).StatusCode);
        Assert.Contains("role worker", worker.Output, StringComparison.Ordinal);
        Assert.Contains("(health at /healthz and /readyz, metrics at /metrics; no API or dashboard in role worker)", worker.Output, StringComparison.Ordinal);
        Assert.Contains("(API, dashboard at /dashboard, metrics at /metrics)", api.Output, StringComparison.Ordinal);
        Assert.Contains("role api", api.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnApiServer_NamesTheQueueAWorkerServerServes_AndLabelsAQueueNoServerServesOther()
    {
        var database = Path.Combine(_directory, "labels.db");
        using var api = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Role"] = "api",
            ["Conveyor__Sqlite__Path"] = database,
            ["Conveyor__Metrics__StoreGaugesInterval"] = "00:00:01",
        });
        using var worker = WorkerProcess.Start(_directory, new Dictionary<string, string>
        {
            ["Conveyor__Role"] = "worker",
            ["Conveyor__Sqlite__Path"] = database,
            ["Conveyor__Server__Queues__default"] = "1",
            ["Conveyor__Server__Queues__billing"] = "1",
        });
        using var apiHttp = new HttpClient { BaseAddress = await api.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        // The read of the store gauges that sees the worker alive reads the registry that lists its queues.
        await WaitForMetricAsync(apiHttp, "job_servers_alive 1\n", api, worker);
        foreach (var queue in new[] { "billing", "made-up-by-a-caller" })
        {
            using var created = await apiHttp.PostAsync("/jobs", new StringContent($$"""{"type": "report:generate", "payload": {"rows": 1}, "queue": "{{queue}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        }

        var apiMetrics = await WaitForMetricAsync(apiHttp, "job_queue_size{queue=\"(other)\",state=\"pending\"} 1\n", api, worker);
        Assert.Contains("job_enqueued_total{task_type=\"report:generate\",queue=\"billing\"} 1\n", apiMetrics, StringComparison.Ordinal);
        Assert.Contains("job_enqueued_total{task_type=\"report:generate\",queue=\"(other)\"} 1\n", apiMetrics, StringComparison.Ordinal);
        Assert.DoesNotContain("made-up-by-a-caller", apiMetrics, StringComparison.Ordinal);
    }

    private static async Task<string> WaitForMetricAsync(HttpClient http, string line, WorkerProcess api, WorkerProcess worker)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var metrics = await http.GetStringAsync("/metrics");
            if (metrics.Contains(line, StringComparison.Ordinal))
            {
                return metrics;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no {line.Trim()} in /metrics:\n{metrics}\nAPI server:\n{api.Output}\nWorker server:\n{worker.Output}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitForSuccessAsync(HttpClient http, string jobId, WorkerProcess api, WorkerProcess worker)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var job = await http.GetFromJsonAsync<JsonElement>($"/jobs/{jobId}");
            if (job.GetProperty("status").GetString() == "SUCCESS")
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId}: {job}\nAPI server:\n{api.Output}\nWorker server:\n{worker.Output}");
            await Task.Delay(50);
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
}
