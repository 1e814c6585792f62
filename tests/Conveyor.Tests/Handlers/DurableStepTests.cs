using System.Collections.Concurrent;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Handlers;

/// <summary>
/// <see cref="JobContext.RunStepAsync(string, Func{CancellationToken, ValueTask{ReadOnlyMemory{byte}}})"/> through a
/// real server: a step finished by an attempt is not run again by the retry, which gets its stored result instead.
/// </summary>
public sealed class DurableStepTests
{
    private sealed record Charge(string Id, decimal Amount);

    [Fact]
    public async Task ARetry_SkipsTheStepsAnEarlierAttemptFinished_AndGetsTheirResults()
    {
        var runs = new ConcurrentQueue<string>();
        var seen = new ConcurrentQueue<string>();
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:steps", async (context, _) =>
        {
            var charge = await context.RunStepAsync("charge", _ =>
            {
                runs.Enqueue($"charge@{context.Attempt}");
                return ValueTask.FromResult(new Charge("ch_" + context.Attempt, 12.5m));
            });
            await context.RunStepAsync("email", _ =>
            {
                runs.Enqueue($"email@{context.Attempt}");
                return ValueTask.CompletedTask;
            });
            var count = await context.RunStepAsync("count", _ => ValueTask.FromResult(0));
            seen.Enqueue($"{charge.Id} {charge.Amount} {count}@{context.Attempt}");
            if (context.Attempt == 1)
            {
                throw new InvalidOperationException("the ledger did not answer");
            }
        }));

        var job = await harness.Client.EnqueueAsync("test:steps", "{}"u8.ToArray(), new JobOptions { MaxRetry = 2 });
        await Eventually.HoldsAsync(async () => (await harness.Client.GetJobAsync(job.JobId, TenantId.Default))?.State == JobState.Succeeded);

        Assert.Equal(["charge@1", "email@1"], runs);
        Assert.Equal(["ch_1 12.5 0@1", "ch_1 12.5 0@2"], seen);
        var steps = await harness.Store.GetStepsAsync(TenantId.Default, job.JobId, CancellationToken.None);
        Assert.Equal(["charge:1", "email:1", "count:1"], steps!.Select(s => $"{s.Name}:{s.Attempt}"));
    }

    [Fact]
    public async Task AStepName_TooLongOrEmpty_IsAnArgumentException_AndNothingRuns()
    {
        var errors = new ConcurrentQueue<Exception>();
        var ran = false;
        await using var harness = await ServerHarness.StartAsync(configureConveyor: c => c.AddHandler("test:bad-step", async (context, _) =>
        {
            foreach (var name in new[] { "", new string('s', 201) })
            {
                try
                {
                    await context.RunStepAsync(name, _ =>
                    {
                        ran = true;
                        return ValueTask.CompletedTask;
                    });
                }
                catch (ArgumentException e)
                {
                    errors.Enqueue(e);
                }
            }
        }));

        var job = await harness.Client.EnqueueAsync("test:bad-step", "{}"u8.ToArray());
        await Eventually.HoldsAsync(async () => (await harness.Client.GetJobAsync(job.JobId, TenantId.Default))?.State == JobState.Succeeded);

        Assert.Equal(2, errors.Count);
        Assert.False(ran);
    }
}
