using System.Text.Json;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Client;

/// <summary>Reading a job back through <see cref="IJobClient"/>, without the storage contract.</summary>
public sealed class JobClientGetJobTests
{
    [Fact]
    public async Task GetJobAsync_FinishedJob_ShowsItsOutcomeProgressResultAndErrors()
    {
        await using var harness = await ServerHarness.StartAsync();
        var enqueued = await harness.Client.EnqueueAsync(new ImportJob(["a", "bad-b"]));
        await harness.WaitForStateAsync(enqueued.JobId, JobState.Partial);

        var job = await harness.Client.GetJobAsync(enqueued.JobId);

        Assert.NotNull(job);
        Assert.Equal((JobState.Partial, "test:import", 100, 1), (job.State, job.Type, job.Progress, job.Attempts));
        Assert.Equal(2, JsonDocument.Parse(job.Result!.Value).RootElement.GetProperty("imported").GetInt32());
        Assert.Equal("https://example.test/results/1", job.ResultUrl);
        Assert.Equal("row 2", Assert.Single(job.Errors).Item);
    }

    [Fact]
    public async Task GetJobAsync_InItsTenant_FindsTheJob_AndAnotherTenantDoesNot()
    {
        await using var harness = await ServerHarness.StartAsync(start: false);
        var enqueued = await harness.Client.EnqueueAsync(new EchoJob("hi"), new JobOptions { Tenant = "acme" });

        var inTenant = await harness.Client.GetJobAsync(enqueued.JobId, "acme");
        var inOther = await harness.Client.GetJobAsync(enqueued.JobId, "globex");
        var inDefault = await harness.Client.GetJobAsync(enqueued.JobId);

        Assert.Equal((JobState.Pending, "acme"), (inTenant!.State, inTenant.Tenant));
        Assert.Null(inOther);
        Assert.Null(inDefault);
    }

    [Theory]
    [InlineData("job_00000000000000000000000000000000")]
    [InlineData("not a job id")]
    [InlineData("")]
    public async Task GetJobAsync_NoSuchJob_ReturnsNull(string jobId)
    {
        await using var harness = await ServerHarness.StartAsync(start: false);

        Assert.Null(await harness.Client.GetJobAsync(jobId));
    }

    [Fact]
    public async Task GetJobAsync_ATenantDotDotStoredBeforeTheRule_StaysReadable_ButCannotBeEnqueuedIn()
    {
        await using var harness = await ServerHarness.StartAsync(start: false);
        var stored = await harness.Store.EnqueueAsync(
            new NewJob { Id = JobId.New(), Type = "test:echo", Queue = QueueName.Default, Tenant = "..", Payload = "{}"u8.ToArray(), MaxRetry = 0, Retention = TimeSpan.FromDays(1) },
            CancellationToken.None);

        var job = await harness.Client.GetJobAsync(stored.JobId, "..");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => harness.Client.EnqueueAsync(new EchoJob("hi"), new JobOptions { Tenant = ".." }));

        Assert.Equal("..", job!.Tenant);
        Assert.Contains("'..' cannot be a tenant id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetJobAsync_InvalidTenant_IsAnArgumentErrorNamingIt()
    {
        await using var harness = await ServerHarness.StartAsync(start: false);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => harness.Client.GetJobAsync(JobId.New(), "no tenant"));

        Assert.Equal("tenant", error.ParamName);
    }
}
