using System.Text;
using Conveyor.Server.SampleJobs;
using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;
using static Conveyor.Server.Tests.CrashTestStore;

namespace Conveyor.Redis.Tests;

/// <summary>
/// Workflows across the nodes of a real three-master Redis Cluster with real worker processes, SIGKILLed: one in the
/// middle of a batch's members (the batch's callbacks on other nodes), of a DAG's first step (the steps after it on
/// other nodes) and while notes wait for a signal (their batch's callback on another node); a second in the middle of the
/// notes' resumed runs. The kills release nothing; after recovery every job finishes, every callback and dependant runs
/// exactly once, every note publishes once, and no lease, outbox entry, storing journal or unfinished member is left
/// on any slot.
/// </summary>
[Collection(RedisCluster.Collection)]
public sealed class RedisClusterCrashTests(ITestOutputHelper output)
{
    private const int Members = 3;
    private const int Notes = 2;

    // Long enough that the kill, which follows the jobs' start by a poll interval, lands while they run.
    private const int SleepSeconds = 8;

    // Long enough that the second kill, which follows the resumed runs' start by a poll interval, lands before they publish.
    private const int PublishDelayMs = 4000;

    [RedisFact]
    public async Task WorkersKilledMidBatchMemberMidDagStepAndMidSignalWait_EachCallbackAndDependantOnAnotherNodeRunsOnce()
    {
        await using var cluster = await RedisCluster.StartAsync();
        using var scope = new CrashTestStore("redis", "cluster-flow", cluster.Configuration);
        await using var provider = scope.CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var workflows = provider.GetRequiredService<IWorkflowClient>();
        var jobs = provider.GetRequiredService<IJobStore>();
        await jobs.InitializeAsync(CancellationToken.None);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        var keys = new RedisKeys(scope.Scope);
        var queues = RedisCluster.QueuesOnEveryNode(connection, keys);
        var (a, b, c) = (queues[0], queues[1], queues[2]);

        // A batch whose members run on a's node; its success callback waits on b's, its complete callback on c's.
        var members = Enumerable.Range(0, Members).Select(_ => client.CreateJob(new DemoSleep(SleepSeconds), On(a))).ToList();
        var onSuccess = client.CreateJob(new DemoSleep(0), On(b));
        var onComplete = client.CreateJob(new DemoSleep(0), On(c));
        var batch = await workflows.StartBatchAsync(members, new BatchOptions { OnSuccess = onSuccess, OnComplete = onComplete });
        Assert.True(batch.Created);

        // A DAG whose first step runs on a's node, the steps after it wait on b's and c's, and the last on a's again.
        var dag = await workflows.StartWorkflowAsync(new WorkflowBuilder("crash")
            .Add("root", client.CreateJob(new DemoSleep(SleepSeconds), On(a)))
            .Add("left", client.CreateJob(new DemoSleep(0), On(b)), after: ["root"])
            .Add("right", client.CreateJob(new DemoSleep(0), On(c)), after: ["root"])
            .Add("join", client.CreateJob(new DemoSleep(0), On(a)), after: ["left", "right"]));
        Assert.True(dag.Created);

        // Notes that wait for their approval on c's node, in a batch whose complete callback waits on b's.
        var notes = Enumerable.Range(1, Notes).Select(n => client.CreateJob(new PublishNote(n, PublishDelayMs), On(c))).ToList();
        var onPublished = client.CreateJob(new DemoSleep(0), On(b));
        var noteBatch = await workflows.StartBatchAsync(notes, new BatchOptions { OnComplete = onPublished });
        Assert.True(noteBatch.Created);

        string[] killed = [.. members.Select(m => m.Id), dag.StepJobIds["root"]];
        string[] released = [onSuccess.Id, onComplete.Id, dag.StepJobIds["left"], dag.StepJobIds["right"], dag.StepJobIds["join"], onPublished.Id];
        string[] noteIds = [.. notes.Select(n => n.Id)];

        // 1. The first worker runs the members and the DAG's first step, and parks the notes; it is killed then.
        using (var first = WorkerProcess.Start(scope.Directory, Settings(scope, queues)))
        {
            await WaitUntilAsync(
                async () => (await StatesAsync(jobs, killed)).All(j => j.State == JobState.Active)
                    && (await StatesAsync(jobs, noteIds)).All(j => j.State == JobState.Scheduled && j.SnoozeReason?.StartsWith("Waiting for signal", StringComparison.Ordinal) == true),
                TimeSpan.FromSeconds(90),
                first);
            first.KillHard();
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        // The kill finished nothing, so it released and counted nothing, on any node.
        Assert.All(await StatesAsync(jobs, killed), j => Assert.Equal(JobState.Active, j.State));
        Assert.All(await StatesAsync(jobs, released), j => Assert.Equal(JobState.Waiting, j.State));
        Assert.All(await StatesAsync(jobs, noteIds), j => Assert.Equal((JobState.Scheduled, 0), (j.State, j.Attempts)));
        foreach (var id in new[] { batch.BatchId, dag.WorkflowId, noteBatch.BatchId })
        {
            var info = await workflows.GetBatchAsync(id, TenantId.Default);
            Assert.Equal((BatchState.Running, 0), (info!.State, info.Succeeded + info.Failed + info.Cancelled));
        }

        // 2. The approvals resume the notes; a second worker takes them and is killed before they publish.
        for (var i = 0; i < noteIds.Length; i++)
        {
            Assert.Equal(JobSignalResult.Resumed, await jobs.SignalAsync(TenantId.Default, noteIds[i], PublishNoteHandler.ApprovedSignal, Approval(i), CancellationToken.None));
        }

        using (var second = WorkerProcess.Start(scope.Directory, Settings(scope, queues)))
        {
            await WaitUntilAsync(async () => (await StatesAsync(jobs, noteIds)).All(j => j.State == JobState.Active), TimeSpan.FromSeconds(60), second);
            second.KillHard();
            Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.DoesNotContain(scope.OutboxLines(), l => l[0] == "publish");
        Assert.Equal(JobState.Waiting, (await jobs.GetAsync(TenantId.Default, onPublished.Id, CancellationToken.None))!.State);

        // 3. Two more workers recover the killed jobs (their leases expire) and finish everything.
        using var third = WorkerProcess.Start(scope.Directory, Settings(scope, queues));
        using var fourth = WorkerProcess.Start(scope.Directory, Settings(scope, queues));
        string[] all = [.. killed, .. released, .. noteIds];
        await WaitUntilAsync(async () => (await StatesAsync(jobs, all)).All(j => j.State == JobState.Succeeded), TimeSpan.FromSeconds(240), third, fourth);

        var finished = await StatesAsync(jobs, all);
        var lines = scope.OutboxLines();
        foreach (var job in finished)
        {
            output.WriteLine($"{job.Id} {job.Queue} ({job.State}): attempts {job.Attempts}; {string.Join(" | ", job.Errors.Select(e => e.Message))}");
        }

        foreach (var line in lines)
        {
            output.WriteLine(string.Join(' ', line));
        }

        // The killed jobs ran again after the recovery took them back ...
        Assert.All(finished.Where(j => killed.Contains(j.Id)), j =>
        {
            Assert.True(j.Attempts >= 2, $"{j.Id} ran {j.Attempts} time(s)");
            Assert.Contains(j.Errors, e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase));
        });

        // ... what waited for them on the other nodes was released once: each ran exactly once, with no error ...
        Assert.All(finished.Where(j => released.Contains(j.Id)), j => Assert.Equal((1, 0), (j.Attempts, j.Errors.Count)));

        // ... and each note asked for its review once and published once, with its own approval.
        Assert.Equal(noteIds.Order(StringComparer.Ordinal), lines.Where(l => l[0] == "review").Select(l => l[2]).Order(StringComparer.Ordinal));
        var published = lines.Where(l => l[0] == "publish").ToList();
        Assert.Equal(noteIds.Order(StringComparer.Ordinal), published.Select(l => l[2]).Order(StringComparer.Ordinal));
        Assert.All(published, l => Assert.Equal(Encoding.UTF8.GetString(Approval(Array.IndexOf(noteIds, l[2]))), l[4]));
        Assert.All(finished.Where(j => noteIds.Contains(j.Id)), j => Assert.True(j.Attempts >= 2, $"{j.Id} ran {j.Attempts} time(s)"));

        // Every batch counted each member once, and nothing is left behind on any slot: no lease, no waiting job, no
        // undelivered outbox entry, no storing journal, no unfinished member.
        var db = connection.GetDatabase();
        await WaitUntilAsync(
            async () =>
            {
                var stats = (await jobs.GetQueueStatsAsync(CancellationToken.None)).Where(s => queues.Contains(s.Queue)).ToList();
                long outboxes = await db.ListLengthAsync(keys.Outbox);
                foreach (var queue in queues)
                {
                    outboxes += await db.ListLengthAsync(keys.ForQueue(queue).Outbox);
                }

                long unfinished = 0;
                foreach (var id in new[] { batch.BatchId, dag.WorkflowId, noteBatch.BatchId })
                {
                    unfinished += await db.SetLengthAsync((string)keys.Batch(id)! + "#m");
                }

                return stats.Sum(s => s.Active + s.Waiting + s.Pending + s.Scheduled + s.Retrying) == 0
                    && outboxes == 0 && unfinished == 0 && await db.SortedSetLengthAsync(keys.StoringDue) == 0;
            },
            TimeSpan.FromSeconds(30),
            third,
            fourth);
        Assert.Equal((BatchState.Succeeded, Members, Members), BatchCounts(await workflows.GetBatchAsync(batch.BatchId, TenantId.Default)));
        Assert.Equal((BatchState.Succeeded, 4, 4), BatchCounts(await workflows.GetBatchAsync(dag.WorkflowId, TenantId.Default)));
        Assert.Equal((BatchState.Succeeded, Notes, Notes), BatchCounts(await workflows.GetBatchAsync(noteBatch.BatchId, TenantId.Default)));
    }

    private static (BatchState, int, int) BatchCounts(BatchInfo? info) => (info!.State, info.Total, info.Succeeded);

    private static JobOptions On(string queue) => new() { Queue = queue };

    private static byte[] Approval(int index) => Encoding.UTF8.GetBytes($$"""{"by":"editor-{{index}}"}""");

    private static Dictionary<string, string> Settings(CrashTestStore scope, List<string> queues)
    {
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Server__Concurrency"] = "8",
            // Well beyond a stall of a loaded machine, so that a live worker never loses a lease: the only jobs run
            // twice are the killed workers', taken back a lease after each kill.
            ["Conveyor__Server__LeaseDuration"] = "00:00:10",
        };
        foreach (var queue in queues)
        {
            settings[$"Conveyor__Server__Queues__{queue}"] = "1";
        }

        return scope.WorkerSettings(settings);
    }
}
