using System.Text.Json;
using Conveyor.Server.SampleJobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server.Tests.SampleJobs;

/// <summary>
/// <c>bulk:import</c> run by a real server on the in-memory store, so the tests see the state the job ends in and the
/// errors stored with it, as the Jobs API shows them.
/// </summary>
public sealed class BulkImportHandlerTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-bulk-import-").FullName;
    private IHost _host = null!;

    private IJobClient Client => _host.Services.GetRequiredService<IJobClient>();

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Configuration["Conveyor:Samples:DataDirectory"] = _directory;
        builder.Services.AddConveyor()
            .UseInMemoryStore()
            .AddSampleJobs(builder.Configuration)
            .AddServer(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        _host = builder.Build();
        await _host.StartAsync();
    }

    [Fact]
    public async Task HandleAsync_EveryRowInvalid_FailsWithoutRetry_AndKeepsOneErrorPerRow()
    {
        var job = await RunAsync("sku,qty\n,3\nB-2,zero\nC-3,-4\n");

        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(["line 2", "line 3", "line 4"], job.Errors.Where(e => e.Item is not null).Select(e => e.Item!).ToArray());
        var failure = Assert.Single(job.Errors, e => e.Item is null);
        Assert.Contains("none of the 3 rows", failure.Message, StringComparison.Ordinal);
        Assert.Empty(await _host.Services.GetRequiredService<InventoryDatabase>().ListAsync(TenantId.Default, 10, CancellationToken.None));
    }

    [Fact]
    public async Task HandleAsync_SomeRowsInvalid_EndsPartialSuccess_WithTheImportedCount()
    {
        var job = await RunAsync("sku,qty\nA-1,5\nB-2,zero\n");

        Assert.Equal(JobState.Partial, job.State);
        Assert.Equal("line 3", Assert.Single(job.Errors).Item);
        var summary = JsonDocument.Parse(job.Result!.Value).RootElement;
        Assert.Equal(1, summary.GetProperty("imported").GetInt32());
        Assert.Equal(1, summary.GetProperty("rejected").GetInt32());
    }

    [Fact]
    public async Task HandleAsync_HeaderOnly_SucceedsWithNothingImported()
    {
        var job = await RunAsync("sku,qty\n");

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(0, JsonDocument.Parse(job.Result!.Value).RootElement.GetProperty("imported").GetInt32());
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<JobInfo> RunAsync(string data)
    {
        var enqueued = await Client.EnqueueAsync(new BulkImport("csv", data), new JobOptions { MaxRetry = 3 });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var job = await Client.GetJobAsync(enqueued.JobId);
            if (job is not null && job.State.IsFinished())
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"bulk:import did not finish: it is {job?.State.ToString() ?? "missing"}.");
            await Task.Delay(20);
        }
    }
}
