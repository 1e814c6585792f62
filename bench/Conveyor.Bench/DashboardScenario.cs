using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// What the dashboard and the CLI ask of a big store, over real HTTP (Kestrel on loopback, the Jobs API as the server
/// maps it, no worker running): --n finished jobs of which one in 11 failed (1,100,000 gives 1,000,000 succeeded and
/// 100,000 failed) in four types, then the time of the overview's three requests, the failed list's first and 100th
/// page (50 a page, following cursors), a filtered list (type, error text and created-at range), a job's detail, and a
/// bulk retry of 10,000 failed jobs through <c>POST /jobs/bulk</c> (1,000 a call). Each read is timed --reps times
/// after two untimed ones; the figures are the median and the slowest.
/// </summary>
internal static class DashboardScenario
{
    private const int PageSize = 50;
    private const int BulkJobs = 10_000;
    private static readonly string[] Types = ["report:daily", "email:send", "invoice:sync", "image:resize"];

    public static async Task RunAsync(BenchSettings settings)
    {
        var n = settings.N;
        Report($"dashboard, {F(n)} finished jobs ({F(n - n / 11)} succeeded, {F(n / 11)} failed), pages of {PageSize}");
        var target = await NewTargetAsync(settings, "dashboard");
        using (var seeding = Build(settings, target, withServer: false, 1))
        {
            await InitializeAsync(seeding);
            var started = Stopwatch.GetTimestamp();
            var midpoint = await SeedAsync(seeding.Services.GetRequiredService<IJobStore>(), settings, n);
            if (settings.Store == "postgres")
            {
                // What autovacuum does after a tenth of a table changed: a store that grew to this size has statistics,
                // and without them the planner guesses (a bitmap AND of two indexes and a sort, not a read in page order).
                await using var connection = new Npgsql.NpgsqlConnection(settings.Postgres);
                await connection.OpenAsync();
                await using var analyze = new Npgsql.NpgsqlCommand($"ANALYZE {target.PostgresSchema}.jobs", connection);
                await analyze.ExecuteNonQueryAsync();
            }

            Report($"seeded in {F(Stopwatch.GetElapsedTime(started).TotalSeconds, "F0")} s (untimed); load {File.ReadAllText("/proc/loadavg").Trim()}");
            await using var api = await StartApiAsync(settings, target);
            using var http = new HttpClient { BaseAddress = new Uri(api.Urls.First()) };
            await MeasureAsync(http, settings.Reps, midpoint);
        }

        await DropAsync(settings, target);
    }

    /// <summary>Enqueues, leases and acknowledges the jobs; answers a created-at instant in the middle of them.</summary>
    private static async Task<DateTimeOffset> SeedAsync(IJobStore store, BenchSettings settings, int n)
    {
        var payload = Encoding.UTF8.GetBytes("""{"customer_id":42,"note":"a payload about the size of a small real one"}""");
        var midpoint = DateTimeOffset.MinValue;
        var enqueued = 0;
        var seedStarted = Stopwatch.GetTimestamp();
        var chunk = settings.Store == "redis" ? 500 : 2000;
        while (enqueued < n)
        {
            var count = Math.Min(chunk, n - enqueued);
            var jobs = new NewJob[count];
            for (var i = 0; i < count; i++)
            {
                jobs[i] = new NewJob
                {
                    Id = JobId.New(),
                    Type = Types[(enqueued + i) % Types.Length],
                    Queue = QueueName.Default,
                    Tenant = TenantId.Default,
                    Payload = payload,
                    MaxRetry = 0,
                    Retention = TimeSpan.FromDays(30),
                };
            }

            await store.EnqueueManyAsync(jobs, CancellationToken.None);
            enqueued += count;
            if (midpoint == DateTimeOffset.MinValue && enqueued >= n / 2)
            {
                midpoint = DateTimeOffset.UtcNow;
            }
        }

        Report($"  enqueued {F(n)}, {F(Stopwatch.GetElapsedTime(seedStarted).TotalSeconds, "F0")} s");
        var stack = string.Concat(Enumerable.Range(0, 12).Select(i => $"   at Billing.Client.CallAsync{i}(Invoice invoice, CancellationToken cancellationToken) in /src/Billing/Client.cs:line {100 + i}\n"));
        var finished = 0L;
        var batch = settings.Store == "redis" ? 200 : 1000;
        await Task.WhenAll(Enumerable.Range(0, settings.Store == "sqlite" ? 1 : 4).Select(async worker =>
        {
            while (true)
            {
                var leased = await store.DequeueAsync(new DequeueRequest
                {
                    Queues = [new QueueQuota(QueueName.Default, batch)],
                    Limit = batch,
                    ServerId = "dashboard-seed-" + worker,
                    LeaseDuration = TimeSpan.FromMinutes(10),
                }, CancellationToken.None);
                if (leased.Count == 0)
                {
                    return;
                }

                var acknowledgements = leased.Select(job =>
                {
                    var k = Interlocked.Increment(ref finished);
                    return k % 11 != 0
                        ? new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded }
                        : new JobAcknowledgement
                        {
                            JobId = job.Id,
                            LeaseToken = job.LeaseToken,
                            Outcome = AckOutcome.Failed,
                            Error = new JobError(1, k % 3 == 0 ? $"Billing API timed out after 30 s (invoice {k})" : $"Customer {k % 1000} has no e-mail address", "System.TimeoutException", null, DateTimeOffset.UtcNow) { StackTrace = stack },
                        };
                }).ToList();
                await store.AcknowledgeManyAsync(acknowledgements, CancellationToken.None);
            }
        }));
        return midpoint;
    }

    private static async Task<WebApplication> StartApiAsync(BenchSettings settings, StoreTarget target)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        // One client making every request: the per-tenant request limit is for many callers, not for this.
        builder.Configuration["Conveyor:Api:RateLimit:Enabled"] = "false";
        var conveyor = builder.Services.AddConveyor();
        UseStore(conveyor, settings, target);
        conveyor.AddHandler<BenchHandler>().AddApi();
        var app = builder.Build();
        app.MapConveyorApi();
        await app.StartAsync();
        return app;
    }

    private static async Task MeasureAsync(HttpClient http, int reps, DateTimeOffset midpoint)
    {
        await TimeAsync("overview: GET /queues + /servers + /stats/throughput", reps, async () =>
        {
            await Task.WhenAll(GetAsync(http, "/queues"), GetAsync(http, "/servers"), GetAsync(http, "/stats/throughput?minutes=5"));
        });
        await TimeAsync("GET /queues alone", reps, () => GetAsync(http, "/queues"));

        var failedPage = $"/jobs?status=failed&limit={PageSize}";
        await TimeAsync("failed list, first page", reps, () => GetAsync(http, failedPage));

        // The 100th page: the cursor of the 99th, found once by walking; then that page timed like the others.
        string? cursor = null;
        var walk = new List<double>();
        for (var page = 1; page < 100; page++)
        {
            var started = Stopwatch.GetTimestamp();
            var answer = await GetAsync(http, failedPage + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            walk.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            cursor = answer.GetProperty("next_cursor").GetString();
        }

        Report($"  walking pages 1-99: mean {F(walk.Average(), "F1")} ms, slowest {F(walk.Max(), "F1")} ms");
        var hundredth = failedPage + "&cursor=" + Uri.EscapeDataString(cursor!);
        await TimeAsync("failed list, 100th page", reps, () => GetAsync(http, hundredth));

        var filtered = $"/jobs?status=failed&type=invoice:sync&error=billing&created_after={Uri.EscapeDataString(midpoint.UtcDateTime.ToString("O"))}&limit={PageSize}";
        var matched = (await GetAsync(http, filtered)).GetProperty("jobs").GetArrayLength();
        await TimeAsync($"filtered list (failed, type, error text, created after the midpoint; {matched} on the page)", reps, () => GetAsync(http, filtered));

        var jobId = (await GetAsync(http, failedPage)).GetProperty("jobs")[PageSize / 2].GetProperty("job_id").GetString()!;
        await TimeAsync("job detail: GET /jobs/{id}", reps, () => GetAsync(http, "/jobs/" + jobId));

        var bulkStarted = Stopwatch.GetTimestamp();
        var applied = 0;
        string? bulkCursor = null;
        var calls = 0;
        while (applied < BulkJobs)
        {
            using var response = await http.PostAsJsonAsync("/jobs/bulk", new Dictionary<string, object?>
            {
                ["action"] = "retry",
                ["filter"] = new Dictionary<string, string> { ["status"] = "failed" },
                ["cursor"] = bulkCursor,
                ["limit"] = 1000,
            });
            response.EnsureSuccessStatusCode();
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            applied += answer.GetProperty("applied").GetInt32();
            bulkCursor = answer.GetProperty("next_cursor").GetString();
            calls++;
            if (bulkCursor is null)
            {
                break;
            }
        }

        Report($"bulk retry of {F(applied)} failed jobs: {F(Stopwatch.GetElapsedTime(bulkStarted).TotalSeconds, "F2")} s in {calls} calls of 1,000");
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task TimeAsync(string name, int reps, Func<Task> request)
    {
        for (var i = 0; i < 2; i++)
        {
            await request();
        }

        var times = new double[reps];
        for (var i = 0; i < reps; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await request();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(times);
        Report($"{name}: median {F(times[reps / 2], "F1")} ms, slowest {F(times[^1], "F1")} ms ({reps} runs)");
    }
}
