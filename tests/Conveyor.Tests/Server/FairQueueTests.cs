using System.Collections.Concurrent;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Server;

/// <summary>
/// Fair queues through a running server: <c>Conveyor:Limits:FairQueues</c> reaches the dequeue, and each dequeue starts
/// its turn after the tenant the last one ended with, so a tenant's backlog does not hold back another tenant's job.
/// </summary>
public sealed class FairQueueTests
{
    private const string RecordType = "fair:record";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Server_AnotherTenantsJobAfterABacklog_StartsInItsTurnOnlyWhenTheQueueIsFair(bool fair)
    {
        var started = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(
            configureServer: o =>
            {
                o.Concurrency = 1;
                o.Prefetch = 0;
            },
            configureConveyor: c => c.AddHandler(RecordType, (context, _) =>
            {
                started.Enqueue(context.Tenant);
                return Task.CompletedTask;
            }),
            configureServices: s => s.Configure<ConveyorOptions>(o =>
            {
                if (fair)
                {
                    o.Limits.FairQueues.Add(QueueName.Default);
                }
            }),
            start: false);

        for (var i = 0; i < 20; i++)
        {
            await harness.Client.EnqueueAsync(RecordType, "{}"u8.ToArray(), new JobOptions { Tenant = "acme" });
        }

        await harness.Client.EnqueueAsync(RecordType, "{}"u8.ToArray(), new JobOptions { Tenant = "globex" });
        await harness.StartHostAsync();

        await Eventually.HoldsAsync(() => started.Count == 21, because: "every job runs");
        var globexStarted = started.ToList().IndexOf("globex");
        // One job per dequeue, two tenants with ready jobs: globex's job is among the first two when the queue is fair.
        if (fair)
        {
            Assert.InRange(globexStarted, 0, 1);
        }
        else
        {
            Assert.Equal(20, globexStarted);
        }
    }

    [Fact]
    public void FairQueues_BindFromConfiguration()
    {
        using var host = JobServerOptionsTests.BuildHost(new() { ["Conveyor:Limits:FairQueues:0"] = "reports", ["Conveyor:Limits:FairQueues:1"] = "imports" });

        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ConveyorOptions>>().Value;

        Assert.Equal(["reports", "imports"], options.Limits.FairQueues);
    }

    [Theory]
    [InlineData("bad queue", "Conveyor:Limits:FairQueues:0 must name a queue whose jobs are taken in turns between tenants (1 to 64 letters, digits, '_', '-' or '.', not '.' or '..'); got 'bad queue'.")]
    [InlineData("", "Conveyor:Limits:FairQueues:0 must name a queue")]
    public async Task Start_WithAnInvalidFairQueue_FailsNamingTheSetting(string queue, string expected)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () =>
        {
            using var host = JobServerOptionsTests.BuildHost(new() { ["Conveyor:Limits:FairQueues:0"] = queue });
            await host.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithAFairQueueListedTwice_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () =>
        {
            using var host = JobServerOptionsTests.BuildHost(new() { ["Conveyor:Limits:FairQueues:0"] = "reports", ["Conveyor:Limits:FairQueues:1"] = "reports" });
            await host.StartAsync();
        });

        Assert.Contains("Conveyor:Limits:FairQueues:1: the queue 'reports' is listed twice.", error.Message, StringComparison.Ordinal);
    }
}
