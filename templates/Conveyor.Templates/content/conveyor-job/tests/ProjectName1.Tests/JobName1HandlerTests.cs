using Conveyor;
using Conveyor.Testing;
using Microsoft.Extensions.DependencyInjection;
using ProjectName1.Jobs;

namespace ProjectName1.Tests;

public sealed class JobName1HandlerTests
{
    [Fact]
    public async Task AnInvalidId_IsNotRetried()
    {
        var payload = new JobName1(0);
        var test = TestJobContext.Create(payload);

        await Assert.ThrowsAsync<SkipRetryException>(() => new JobName1Handler().HandleAsync(payload, test.Context, CancellationToken.None));
    }

    [Fact]
    public async Task AnEnqueuedJob_Succeeds()
    {
        await using var host = ConveyorTestHost.Create(conveyor => conveyor.AddHandler<JobName1Handler>());

        await host.Client.EnqueueDefaultAsync(new JobName1(42), JobName1.DefaultOptions);
        host.AssertEnqueued<JobName1>(job => job.Id == 42);

        var ran = await host.DrainAsync();

        Assert.Equal(1, ran.Succeeded);
        host.AssertNothingEnqueued();
    }
}
