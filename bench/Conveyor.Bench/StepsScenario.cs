using System.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// What a resumable job pays the store, one awaited call after another (a handler awaits each): --n jobs leased, then
/// per job one durable step stored (RunStepAsync's write); then per job the wait for a signal as JobContext and the
/// processor make it (its deadline step, then the park), the signal's delivery (which makes the job pending), and the
/// resumed attempt's store calls (its share of a batched dequeue, then the read of its steps, where it finds the signal).
/// No server runs: these are the store's costs, not a handler's.
/// </summary>
internal static class StepsScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var n = settings.N;
        Report($"steps, {n} jobs: a stored step each, then a park + signal + resume each, one awaited call at a time");
        var target = await NewTargetAsync(settings, "steps");
        using var host = Build(settings, target, withServer: false, 1);
        await InitializeAsync(host);
        var store = host.Services.GetRequiredService<IJobStore>();
        var time = TimeProvider.System;
        await PrefillAsync(host.Services.GetRequiredService<IJobClient>(), n, 4);
        var leased = await DequeueAllAsync(store, n);
        var result = """{"charge_id":"ch_3MmlLrLkdIwHu7ix0snN0B15"}"""u8.ToArray();

        // Untimed: the connection, the scripts and the JIT warm up on a few jobs first.
        foreach (var job in leased.Take(200))
        {
            await store.SaveStepAsync(job.Id, job.LeaseToken, new JobStep("warm-up", job.Attempt, result, time.GetUtcNow()), CancellationToken.None);
            await store.GetStepsAsync(job.Tenant, job.Id, CancellationToken.None);
        }

        var watch = Stopwatch.StartNew();
        foreach (var job in leased)
        {
            await store.SaveStepAsync(job.Id, job.LeaseToken, new JobStep("charge", job.Attempt, result, time.GetUtcNow()), CancellationToken.None);
        }

        var step = watch.Elapsed;
        Report($"stored step: {F(step.TotalMicroseconds / n, "F0")} µs per step ({F(n / step.TotalSeconds)} steps/s, 1 caller)");

        const string Signal = "approved";
        var until = time.GetUtcNow().AddHours(1);
        var deadline = System.Text.Encoding.ASCII.GetBytes(until.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        watch.Restart();
        foreach (var job in leased)
        {
            await store.SaveStepAsync(job.Id, job.LeaseToken, new JobStep(JobSignal.WaitStepName(Signal), job.Attempt, deadline, time.GetUtcNow()), CancellationToken.None);
            var wait = await store.AwaitSignalAsync(job.Id, job.LeaseToken, [Signal], until, recordTimeout: true, JobSignal.WaitReason(Signal, until), CancellationToken.None);
            if (wait.Outcome != JobSignalWaitOutcome.Parked)
            {
                throw new InvalidOperationException($"job {job.Id} was not parked: {wait.Outcome}");
            }
        }

        var park = watch.Elapsed;
        var approval = """{"by":"ada","approved":true}"""u8.ToArray();
        watch.Restart();
        foreach (var job in leased)
        {
            var delivered = await store.SignalAsync(job.Tenant, job.Id, Signal, approval, CancellationToken.None);
            if (delivered != JobSignalResult.Resumed)
            {
                throw new InvalidOperationException($"job {job.Id} was not resumed: {delivered}");
            }
        }

        var signal = watch.Elapsed;
        watch.Restart();
        var resumed = await DequeueAllAsync(store, n);
        foreach (var job in resumed)
        {
            var steps = await store.GetStepsAsync(job.Tenant, job.Id, CancellationToken.None);
            if (steps is null || !steps.Any(s => s.Name == JobSignal.StepName(Signal)))
            {
                throw new InvalidOperationException($"job {job.Id} resumed without its signal");
            }
        }

        var resume = watch.Elapsed;
        Report($"park (deadline step + park): {F(park.TotalMicroseconds / n, "F0")} µs per job");
        Report($"signal (store it, make the job pending): {F(signal.TotalMicroseconds / n, "F0")} µs per job");
        Report($"resume (dequeue share + read the steps): {F(resume.TotalMicroseconds / n, "F0")} µs per job");
        Report($"park + signal + resume: {F((park + signal + resume).TotalMicroseconds / n, "F0")} µs per job ({F(n / (park + signal + resume).TotalSeconds)} waits/s, 1 caller)");
        await DropAsync(settings, target);
    }

    private static async Task<List<LeasedJob>> DequeueAllAsync(IJobStore store, int n)
    {
        var leased = new List<LeasedJob>(n);
        while (leased.Count < n)
        {
            var batch = await store.DequeueAsync(new DequeueRequest
            {
                Queues = [new QueueQuota(QueueName.Default, 500)],
                Limit = 500,
                ServerId = "steps",
                LeaseDuration = TimeSpan.FromMinutes(10),
            }, CancellationToken.None);
            if (batch.Count == 0)
            {
                throw new InvalidOperationException($"only {leased.Count} of {n} jobs could be leased");
            }

            leased.AddRange(batch);
        }

        return leased;
    }
}
