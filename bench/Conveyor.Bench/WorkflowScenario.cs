using System.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// Workflows (continuations, batches, DAGs), measured on --store with --concurrency handlers (--parts callback,store,dag,drain):
/// 1. callback: 10 × --reps batches of 100 no-op jobs with a success callback, and as many of jobs of 1-10 ms (which do
///    not all end at once); time from the end of the batch's last job's handler to the start of the callback's handler
///    (p50, max), split where the last job's acknowledgement's store call began and returned (the store probe records
///    both); the same for a continuation (one job, then one after it); beside them the same done by hand (100 plain
///    jobs, the last to end enqueues the follow-up: time from its enqueue to the follow-up's start, under the same drain)
///    and an idle server's enqueue-to-start of a plain job;
/// 2. store: the store alone, one call at a time: a batch's last acknowledgement with its callback leased, 20 members
///    acknowledged against 20 plain jobs, a plain enqueue, its dequeue and its acknowledgement, a continuation's first
///    job acknowledged with the next leased;
/// 3. dag: a 1,000-node DAG (a root, 988 parts after it, 10 joins each after ~99 parts, a final step after the joins)
///    started with StartWorkflowAsync and run to its last step, against the same 1,000 jobs enqueued independently
///    (EnqueueManyAsync) and drained: enqueue time and time to the last job's end, --reps runs each;
/// 4. drain: jobs/s of --n plain jobs on an empty store and on a store holding 100 waiting workflows of 10 steps and a
///    running batch of 1,000 jobs (on a queue no server serves): one drain not counted, then --reps pairs in alternating
///    order; the medians and each pair's difference;
/// 5. members: jobs/s of --n jobs stored as the members of one batch against the same jobs stored plain, --reps pairs.
/// With --backlog N, parts 1 and 2 first make N jobs of other workflows wait in the store (in a queue nobody serves), as
/// in a store in service. In parts 1 and 2 a PostgreSQL store's tables are analyzed after the warm-up round (BenchHost.AnalyzeAsync): without it
/// the figures are those of plans made for empty tables, 3-12 ms an acknowledgement that releases a job.
/// </summary>
internal static class WorkflowScenario
{
    private static readonly Lock LastMemberLock = new();
    private static (long End, string Id) _lastMember;
    private static TaskCompletionSource<long> _callbackStarted = new();
    private static int _handMadeLeft;
    private static long _handMadeEnqueued;
    private static long _handMadeStored;
    private static long _dagDone;

    public static async Task RunAsync(BenchSettings settings)
    {
        var reps = Math.Max(1, settings.Reps);
        bool Runs(string part) => settings.Parts.Count == 0 || settings.Parts.Contains(part);
        if (Runs("callback"))
        {
            await BatchCallbackAsync(settings, reps * 10);
        }

        if (Runs("store"))
        {
            await StoreCostsAsync(settings, reps * 10);
        }

        if (Runs("dag"))
        {
            await DagAsync(settings, reps);
        }

        if (Runs("drain"))
        {
            await DrainBesideWorkflowsAsync(settings, reps);
        }

        if (Runs("members"))
        {
            await DrainOfMembersAsync(settings, reps);
        }
    }

    private static async Task BatchCallbackAsync(BenchSettings settings, int reps)
    {
        var target = await NewTargetAsync(settings, "wf-callback");

        // Through the store probe, which records when each acknowledgement's call began and returned: the gap splits there.
        var acknowledgedAt = new System.Collections.Concurrent.ConcurrentDictionary<string, (long Called, long Stored, int Count)>(StringComparer.Ordinal);
        StoreProbe.Counters.AcknowledgedAt = acknowledgedAt;
        using (var host = Build(settings with { Probe = true }, target, withServer: true, settings.Concurrency,
            extra: static c => c.AddHandler<MemberHandler>().AddHandler<HandMadeMemberHandler>().AddHandler<CallbackHandler>()))
        {
            await InitializeAsync(host);
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var workflows = host.Services.GetRequiredService<IWorkflowClient>();
            await ParkWaitingJobsAsync(workflows, jobs, settings.Backlog);
            await host.StartAsync();
            var recorder = host.Services.GetRequiredService<BenchRecorder>();
            var batch = await GapsAsync(() => workflows.StartBatchAsync(
                Enumerable.Range(0, 100).Select(i => jobs.CreateJob(new Member(i))).ToList(), new BatchOptions { OnSuccess = jobs.CreateJob(new Callback()) }));

            // The same with members that take 1-10 ms, so that they do not all end at once.
            var spread = await GapsAsync(() => workflows.StartBatchAsync(
                Enumerable.Range(0, 100).Select(i => jobs.CreateJob(new Member(i, 1 + i * 7 % 10))).ToList(), new BatchOptions { OnSuccess = jobs.CreateJob(new Callback()) }));

            // A continuation: one job, then one that waits for it.
            var chain = await GapsAsync(() => workflows.StartWorkflowAsync(
                new WorkflowBuilder().Add("a", jobs.CreateJob(new Member(0))).Add("b", jobs.CreateJob(new Callback()), after: ["a"])));

            // The same done by hand, under the same drain: 100 plain jobs, the last to end enqueues the follow-up; with
            // no-op jobs and with jobs of 1-10 ms, as the batches above.
            var (handMade, handMadeFromStored) = await HandMadeAsync(jobs, reps, static i => new HandMadeMember(i));
            var (handMadeSpread, _) = await HandMadeAsync(jobs, reps, static i => new HandMadeMember(i, 1 + i * 7 % 10));

            // A plain job's enqueue-to-start on an idle server, and its part from the enqueue's return (the job stored):
            // what a callback's part from its releasing acknowledgement's return compares with.
            recorder.ExpectLatencies(reps);
            var enqueueCalls = new List<double>();
            for (var r = 0; r < reps; r++)
            {
                var before = recorder.Completed;
                var called = Stopwatch.GetTimestamp();
                await jobs.EnqueueAsync(new BenchJob(called));
                enqueueCalls.Add(Stopwatch.GetElapsedTime(called).TotalMilliseconds);
                while (recorder.Completed == before)
                {
                    await Task.Delay(1);
                }
            }

            var plain = recorder.Latencies;
            var plainFromStored = plain.Zip(enqueueCalls, static (whole, call) => whole - call).ToList();
            Report($"batch callback: last job's end to callback start p50 {F(Percentile(batch.Whole, 0.5), "N1")} ms, max {F(batch.Whole.Max(), "N1")} ms ({reps} batches of 100), " +
                $"of which {batch.Parts("the last job's end", "its acknowledgement", "the callback's start")}; " +
                $"members of 1-10 ms: p50 {F(Percentile(spread.Whole, 0.5), "N1")} ms, max {F(spread.Whole.Max(), "N1")} ms, of which {spread.Parts("the last job's end", "its acknowledgement", "the callback's start")}; " +
                $"continuation (one job, then one after it): p50 {F(Percentile(chain.Whole, 0.5), "N1")} ms, max {F(chain.Whole.Max(), "N1")} ms, " +
                $"of which {chain.Parts("the job's end", "its acknowledgement", "the next one's start")}; " +
                $"by hand (the last of 100 plain jobs enqueues it): enqueue to start p50 {F(Percentile(handMade, 0.5), "N1")} ms, max {F(handMade.Max(), "N1")} ms, " +
                $"from the enqueue's return p50 {F(Percentile(handMadeFromStored, 0.5), "N2")} ms; " +
                $"by hand with jobs of 1-10 ms: p50 {F(Percentile(handMadeSpread, 0.5), "N1")} ms, max {F(handMadeSpread.Max(), "N1")} ms; " +
                $"a plain job's enqueue to start on an idle server p50 {F(Percentile(plain, 0.5), "N1")} ms, max {F(plain.Max(), "N1")} ms, " +
                $"of which the enqueue call {F(Percentile(enqueueCalls, 0.5), "N2")} ms and from its return to the start {F(Percentile(plainFromStored, 0.5), "N2")} ms" +
                (settings.Backlog > 0 ? $" ({settings.Backlog:N0} other jobs waiting in the store)" : ""));
            await host.StopAsync();
        }

        StoreProbe.Counters.AcknowledgedAt = null;
        await DropAsync(settings, target);

        // reps + 1 rounds (the first not counted) of 100 plain jobs whose last to end enqueues the follow-up: its enqueue to
        // the follow-up's start, whole and from the enqueue's return.
        static async Task<(List<double> Whole, List<double> FromStored)> HandMadeAsync(IJobClient jobs, int reps, Func<int, HandMadeMember> member)
        {
            var times = new List<double>();
            var fromStored = new List<double>();
            for (var r = 0; r < reps + 1; r++)
            {
                Volatile.Write(ref _handMadeLeft, 100);
                Interlocked.Exchange(ref _handMadeStored, 0);
                _callbackStarted = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                await jobs.EnqueueManyAsync(Enumerable.Range(0, 100).Select(member).ToList());
                var started = await _callbackStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
                if (r > 0)
                {
                    times.Add(Stopwatch.GetElapsedTime(Interlocked.Read(ref _handMadeEnqueued), started).TotalMilliseconds);
                    // The follow-up may start before its enqueue's reply is read (a negative part, as on Redis below).
                    SpinWait.SpinUntil(static () => Interlocked.Read(ref _handMadeStored) != 0, TimeSpan.FromSeconds(10));
                    fromStored.Add(Stopwatch.GetElapsedTime(Interlocked.Read(ref _handMadeStored), started).TotalMilliseconds);
                }
            }

            return (times, fromStored);
        }

        // reps + 1 runs of start (the first not counted): the gap from the last member's end to the callback's start, and
        // its three parts: until its acknowledgement's store call began, the call, and from its return.
        async Task<Gaps> GapsAsync(Func<Task> start)
        {
            var gaps = new Gaps([], [], [], [], []);
            for (var r = 0; r < reps + 1; r++)
            {
                _lastMember = (0, "");
                _callbackStarted = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                await start();
                var started = await _callbackStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
                if (r == 0)
                {
                    await AnalyzeAsync(settings, target);
                    continue;
                }

                // On Redis the release is published by the acknowledging script, so the callback can be dequeued and
                // start before the acknowledging call's reply is read: then its time from the acknowledgement is negative.
                var last = _lastMember;
                (long Called, long Stored, int Count) ack = default;
                if (!SpinWait.SpinUntil(() => acknowledgedAt.TryGetValue(last.Id, out ack), TimeSpan.FromSeconds(10)))
                {
                    throw new InvalidOperationException($"the acknowledgement of {last.Id} was not seen by the store probe");
                }

                gaps.Whole.Add(Stopwatch.GetElapsedTime(last.End, started).TotalMilliseconds);
                gaps.ToCall.Add(Stopwatch.GetElapsedTime(last.End, ack.Called).TotalMilliseconds);
                gaps.Call.Add(Stopwatch.GetElapsedTime(ack.Called, ack.Stored).TotalMilliseconds);
                gaps.FromStored.Add(Stopwatch.GetElapsedTime(ack.Stored, started).TotalMilliseconds);
                gaps.Carried.Add(ack.Count);
            }

            return gaps;
        }
    }

    /// <summary>
    /// The store alone, one call at a time (no server): the acknowledgement of a batch's last member that takes its
    /// callback (AcknowledgeAndTakeReleasedAsync; a store without it releases the callback and a dequeue takes it),
    /// 20 members of a batch acknowledged in one call against 20 plain jobs, and a plain enqueue and dequeue.
    /// </summary>
    private static async Task StoreCostsAsync(BenchSettings settings, int reps)
    {
        var target = await NewTargetAsync(settings, "wf-store");
        using (var host = Build(settings, target, withServer: false, settings.Concurrency))
        {
            await InitializeAsync(host);
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var workflows = host.Services.GetRequiredService<IWorkflowClient>();
            var store = host.Services.GetRequiredService<IJobStore>();
            var request = new DequeueRequest { Queues = [new QueueQuota(QueueName.Default, 100)], Limit = 100, ServerId = "bench", LeaseDuration = TimeSpan.FromMinutes(1) };
            await ParkWaitingJobsAsync(workflows, jobs, settings.Backlog);
            var last = new List<double>();
            var members = new List<double>();
            var plain = new List<double>();
            var enqueue = new List<double>();
            var dequeue = new List<double>();
            var single = new List<double>();
            var releasing = new List<double>();
            var taken = 0;
            for (var r = 0; r < reps + 1; r++)
            {
                await workflows.StartBatchAsync(Enumerable.Range(0, 100).Select(i => jobs.CreateJob(new Member(i))).ToList(), new BatchOptions { OnSuccess = jobs.CreateJob(new Callback()) });
                var leased = await LeaseAsync(store, request, 100);
                var t0 = Stopwatch.GetTimestamp();
                await store.AcknowledgeManyAsync(leased.Take(20).Select(Succeeded).ToList(), CancellationToken.None);
                var t1 = Stopwatch.GetTimestamp();
                await store.AcknowledgeManyAsync(leased.Skip(20).Take(79).Select(Succeeded).ToList(), CancellationToken.None);
                var t2 = Stopwatch.GetTimestamp();
                var result = await store.AcknowledgeAndTakeReleasedAsync([Succeeded(leased[99])], request with { Limit = 1 }, CancellationToken.None);
                var callback = result.Leased.Count == 1 ? result.Leased : await LeaseAsync(store, request, 1);
                var t3 = Stopwatch.GetTimestamp();
                taken += result.Leased.Count;
                await store.AcknowledgeManyAsync([Succeeded(callback[0])], CancellationToken.None);

                await jobs.EnqueueManyAsync(Enumerable.Range(0, 20).Select(i => new HandMadeMember(i)).ToList());
                var twenty = await LeaseAsync(store, request, 20);
                var t4 = Stopwatch.GetTimestamp();
                await store.AcknowledgeManyAsync(twenty.Select(Succeeded).ToList(), CancellationToken.None);
                var t5 = Stopwatch.GetTimestamp();
                await jobs.EnqueueAsync(new Callback());
                var t6 = Stopwatch.GetTimestamp();
                var one = await LeaseAsync(store, request, 1);
                var t7 = Stopwatch.GetTimestamp();
                var t8 = Stopwatch.GetTimestamp();
                await store.AcknowledgeManyAsync([Succeeded(one[0])], CancellationToken.None);
                var t9 = Stopwatch.GetTimestamp();

                await workflows.StartWorkflowAsync(new WorkflowBuilder().Add("a", jobs.CreateJob(new Member(0))).Add("b", jobs.CreateJob(new Callback()), after: ["a"]));
                var head = await LeaseAsync(store, request, 1);
                var t10 = Stopwatch.GetTimestamp();
                var next = await store.AcknowledgeAndTakeReleasedAsync([Succeeded(head[0])], request with { Limit = 1 }, CancellationToken.None);
                var dependant = next.Leased.Count == 1 ? next.Leased : await LeaseAsync(store, request, 1);
                var t11 = Stopwatch.GetTimestamp();
                await store.AcknowledgeManyAsync([Succeeded(dependant[0])], CancellationToken.None);
                if (r == 0)
                {
                    await AnalyzeAsync(settings, target);
                }

                if (r > 0)
                {
                    members.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                    last.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
                    plain.Add(Stopwatch.GetElapsedTime(t4, t5).TotalMilliseconds);
                    enqueue.Add(Stopwatch.GetElapsedTime(t5, t6).TotalMilliseconds);
                    dequeue.Add(Stopwatch.GetElapsedTime(t6, t7).TotalMilliseconds);
                    single.Add(Stopwatch.GetElapsedTime(t8, t9).TotalMilliseconds);
                    releasing.Add(Stopwatch.GetElapsedTime(t10, t11).TotalMilliseconds);
                }
            }

            Report($"store alone, one call at a time, p50: a batch's last acknowledgement and its callback leased {F(Percentile(last, 0.5), "N2")} ms " +
                $"({(taken > reps ? "taken by the acknowledgement" : "by a dequeue after it")}); 20 members acknowledged {F(Percentile(members, 0.5), "N2")} ms, " +
                $"20 plain jobs {F(Percentile(plain, 0.5), "N2")} ms; a plain enqueue {F(Percentile(enqueue, 0.5), "N2")} ms, its dequeue {F(Percentile(dequeue, 0.5), "N2")} ms, its acknowledgement {F(Percentile(single, 0.5), "N2")} ms; " +
                $"a continuation's first job acknowledged and the next leased {F(Percentile(releasing, 0.5), "N2")} ms ({reps} rounds" +
                (settings.Backlog > 0 ? $", {settings.Backlog:N0} other jobs waiting in the store)" : ")"));
        }

        await DropAsync(settings, target);

        static JobAcknowledgement Succeeded(LeasedJob job) => new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded, BatchId = job.BatchId };

        static async Task<IReadOnlyList<LeasedJob>> LeaseAsync(IJobStore store, DequeueRequest request, int count)
        {
            var leased = new List<LeasedJob>(count);
            while (leased.Count < count)
            {
                leased.AddRange(await store.DequeueAsync(request with { Limit = count - leased.Count }, CancellationToken.None));
            }

            return leased;
        }
    }

    private static async Task DagAsync(BenchSettings settings, int reps)
    {
        for (var r = 0; r < reps; r++)
        {
            var (dagEnqueue, dagTotal) = await RunDagAsync(settings, asWorkflow: true);
            var (plainEnqueue, plainTotal) = await RunDagAsync(settings, asWorkflow: false);
            Report($"1,000-node DAG run {r + 1}: workflow enqueue {F(dagEnqueue)} ms, enqueue to last end {F(dagTotal)} ms; " +
                $"the same jobs independent: enqueue {F(plainEnqueue)} ms, to last end {F(plainTotal)} ms; overhead {F(dagTotal - plainTotal)} ms ({F((dagTotal - plainTotal) / 1000.0 * 1000, "N0")} µs per node)");
        }
    }

    private static async Task<(double Enqueue, double Total)> RunDagAsync(BenchSettings settings, bool asWorkflow)
    {
        var target = await NewTargetAsync(settings, "wf-dag");
        (double, double) result;
        using (var host = Build(settings, target, withServer: true, settings.Concurrency, extra: static c => c.AddHandler<NodeHandler>()))
        {
            await InitializeAsync(host);
            await host.StartAsync();
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var workflows = host.Services.GetRequiredService<IWorkflowClient>();
            Interlocked.Exchange(ref _dagDone, 0);
            var clock = Stopwatch.StartNew();
            if (asWorkflow)
            {
                var workflow = new WorkflowBuilder("bench").Add("root", jobs.CreateJob(new Node()));
                var parts = Enumerable.Range(0, 988).Select(i => $"part-{i}").ToList();
                foreach (var part in parts)
                {
                    workflow.Add(part, jobs.CreateJob(new Node()), after: ["root"]);
                }

                var joins = Enumerable.Range(0, 10).Select(j => $"join-{j}").ToList();
                for (var j = 0; j < 10; j++)
                {
                    workflow.Add(joins[j], jobs.CreateJob(new Node()), after: parts.Where((_, i) => i % 10 == j).ToList());
                }

                workflow.Add("final", jobs.CreateJob(new Node()), after: joins);
                var started = await workflows.StartWorkflowAsync(workflow);
                if (!started.Created)
                {
                    throw new InvalidOperationException("the workflow was not stored");
                }
            }
            else
            {
                await jobs.EnqueueManyAsync(Enumerable.Range(0, 1000).Select(_ => new Node()).ToList());
            }

            var enqueue = clock.Elapsed.TotalMilliseconds;
            while (Interlocked.Read(ref _dagDone) < 1000 && clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(1);
            }

            result = (enqueue, clock.Elapsed.TotalMilliseconds);
            await host.StopAsync();
        }

        await DropAsync(settings, target);
        return result;
    }

    private static async Task DrainBesideWorkflowsAsync(BenchSettings settings, int reps)
    {
        // One drain first, not counted (a cold process drains slower), then pairs in alternating order (ABBA) so that a
        // drift over the run (the machine, the database's tables) falls on both sides alike; the per-pair ratio is
        // reported beside the medians with its mean and standard error: the order alternates, so the mean (not the
        // median) is what cancels an advantage of the first or second drain of a pair.
        await DrainAsync(settings, withWorkflows: false);
        var without = new List<double>();
        var with = new List<double>();
        var ratios = new List<double>();
        for (var r = 0; r < reps; r++)
        {
            double a, b;
            if (r % 2 == 0)
            {
                a = await DrainAsync(settings, withWorkflows: false);
                b = await DrainAsync(settings, withWorkflows: true);
            }
            else
            {
                b = await DrainAsync(settings, withWorkflows: true);
                a = await DrainAsync(settings, withWorkflows: false);
            }

            without.Add(a);
            with.Add(b);
            ratios.Add((b - a) / a * 100);
        }

        var medianWithout = Percentile(without, 0.5);
        var medianWith = Percentile(with, 0.5);
        Report($"drain of {settings.N} plain jobs, c={settings.Concurrency}: empty store {string.Join(" / ", without.Select(x => F(x)))} jobs/s; " +
            $"beside 1,000 waiting workflow steps and a running batch of 1,000 {string.Join(" / ", with.Select(x => F(x)))} jobs/s; medians {F(medianWithout)} vs {F(medianWith)} ({F((medianWith - medianWithout) / medianWithout * 100, "N1")} %); " +
            $"per pair {string.Join(" / ", ratios.Select(x => F(x, "+0.0;-0.0")))} %, mean {F(ratios.Average(), "+0.0;-0.0")} % ± {F(StandardError(ratios), "N1")} (standard error)");
    }

    /// <summary>
    /// Jobs/s of --n no-op jobs stored as the members of one batch, against the same jobs stored plain, in pairs of
    /// alternating order after one drain not counted: what a batch's bookkeeping costs a drain of its members.
    /// </summary>
    private static async Task DrainOfMembersAsync(BenchSettings settings, int reps)
    {
        await DrainAsync(settings, withWorkflows: false, asMembers: true);
        var plain = new List<double>();
        var members = new List<double>();
        for (var r = 0; r < reps; r++)
        {
            if (r % 2 == 0)
            {
                plain.Add(await DrainAsync(settings, withWorkflows: false));
                members.Add(await DrainAsync(settings, withWorkflows: false, asMembers: true));
            }
            else
            {
                members.Add(await DrainAsync(settings, withWorkflows: false, asMembers: true));
                plain.Add(await DrainAsync(settings, withWorkflows: false));
            }
        }

        Report($"drain of {settings.N} jobs, c={settings.Concurrency}: plain {string.Join(" / ", plain.Select(x => F(x)))} jobs/s; " +
            $"the members of one batch {string.Join(" / ", members.Select(x => F(x)))} jobs/s; medians {F(Percentile(plain, 0.5))} vs {F(Percentile(members, 0.5))}");
    }

    private static async Task<double> DrainAsync(BenchSettings settings, bool withWorkflows, bool asMembers = false)
    {
        var target = await NewTargetAsync(settings, "wf-drain");
        double rate;
        using (var host = Build(settings, target, withServer: true, settings.Concurrency))
        {
            await InitializeAsync(host);
            var jobs = host.Services.GetRequiredService<IJobClient>();
            var recorder = host.Services.GetRequiredService<BenchRecorder>();
            if (withWorkflows)
            {
                var workflows = host.Services.GetRequiredService<IWorkflowClient>();
                var elsewhere = new JobOptions { Queue = "workflows-elsewhere" };
                for (var w = 0; w < 100; w++)
                {
                    var workflow = new WorkflowBuilder().Add("s0", jobs.CreateJob(new Node(), elsewhere));
                    for (var s = 1; s < 10; s++)
                    {
                        workflow.Add($"s{s}", jobs.CreateJob(new Node(), elsewhere), after: [$"s{s - 1}"]);
                    }

                    await workflows.StartWorkflowAsync(workflow);
                }

                await workflows.StartBatchAsync(Enumerable.Range(0, 1000).Select(_ => jobs.CreateJob(new Node(), elsewhere)).ToList(),
                    new BatchOptions { OnComplete = jobs.CreateJob(new Node(), elsewhere) });
            }

            if (asMembers)
            {
                var workflows = host.Services.GetRequiredService<IWorkflowClient>();
                var batch = await workflows.StartBatchAsync(Enumerable.Range(0, Math.Min(1000, settings.N)).Select(_ => jobs.CreateJob(new BenchJob(0))).ToList());
                for (var added = 1000; added < settings.N; added += 1000)
                {
                    await workflows.AddToBatchAsync(batch.BatchId, Enumerable.Range(0, Math.Min(1000, settings.N - added)).Select(_ => jobs.CreateJob(new BenchJob(0))).ToList());
                }
            }
            else
            {
                await PrefillAsync(jobs, settings.N, settings.Store == "redis" ? 1 : 4);
            }

            // Each drain starts with the previous one's garbage collected, whichever side of the pair it was.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var clock = Stopwatch.StartNew();
            await host.StartAsync();
            while (recorder.Completed < settings.N && clock.Elapsed < TimeSpan.FromMinutes(10))
            {
                await Task.Delay(2);
            }

            rate = recorder.Completed / clock.Elapsed.TotalSeconds;
            await host.StopAsync();
        }

        await DropAsync(settings, target);
        return rate;
    }

    private static double StandardError(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return double.NaN;
        }

        var mean = values.Average();
        return Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (values.Count - 1) / values.Count);
    }

    private static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>
    /// Makes <paramref name="count"/> jobs wait as a store in service holds other workflows' waiting jobs and their links:
    /// workflows of 500 steps after one root, in a queue nobody serves, so that statements are planned for such tables.
    /// </summary>
    private static async Task ParkWaitingJobsAsync(IWorkflowClient workflows, IJobClient jobs, int count)
    {
        var parked = new JobOptions { Queue = "parked" };
        for (var started = 0; started < count; started += 499)
        {
            var workflow = new WorkflowBuilder().Add("root", jobs.CreateJob(new Member(0), parked));
            for (var i = 0; i < Math.Min(499, count - started); i++)
            {
                workflow.Add($"step-{i}", jobs.CreateJob(new Member(i), parked), after: ["root"]);
            }

            await workflows.StartWorkflowAsync(workflow);
        }
    }

    /// <summary>The gaps of a callback measurement and their parts, in milliseconds.</summary>
    private sealed record Gaps(List<double> Whole, List<double> ToCall, List<double> Call, List<double> FromStored, List<double> Carried)
    {
        public string Parts(string end, string acknowledgement, string start) =>
            $"{end} to {acknowledgement}'s store call p50 {F(Percentile(ToCall, 0.5), "N2")} ms, the call {F(Percentile(Call, 0.5), "N2")} ms " +
            $"(carrying p50 {F(Percentile(Carried, 0.5), "N0")}, max {F(Carried.Max(), "N0")} acknowledgements), " +
            $"from its return to {start} {F(Percentile(FromStored, 0.5), "N2")} ms (max {F(FromStored.Max(), "N1")} ms)";
    }

    internal sealed record Member(int I, int DelayMs = 0) : IJobPayload
    {
        public static string JobType => "bench:member";
    }

    internal sealed record HandMadeMember(int I, int DelayMs = 0) : IJobPayload
    {
        public static string JobType => "bench:hand-made-member";
    }

    internal sealed record Callback : IJobPayload
    {
        public static string JobType => "bench:callback";
    }

    internal sealed record Node : IJobPayload
    {
        public static string JobType => "bench:node";
    }

    /// <summary>Records the end (its handler's return) of the member that ends last, and its id.</summary>
    internal sealed class MemberHandler : IJobHandler<Member>
    {
        public async Task HandleAsync(Member payload, JobContext context, CancellationToken cancellationToken)
        {
            if (payload.DelayMs > 0)
            {
                await Task.Delay(payload.DelayMs, cancellationToken);
            }

            lock (LastMemberLock)
            {
                var now = Stopwatch.GetTimestamp();
                if (now > _lastMember.End)
                {
                    _lastMember = (now, context.JobId);
                }
            }
        }
    }

    /// <summary>A continuation by hand: the last of the 100 to end enqueues the follow-up before it returns.</summary>
    internal sealed class HandMadeMemberHandler(IJobClient jobs) : IJobHandler<HandMadeMember>
    {
        public async Task HandleAsync(HandMadeMember payload, JobContext context, CancellationToken cancellationToken)
        {
            if (payload.DelayMs > 0)
            {
                await Task.Delay(payload.DelayMs, cancellationToken);
            }

            if (Interlocked.Decrement(ref _handMadeLeft) == 0)
            {
                Interlocked.Exchange(ref _handMadeEnqueued, Stopwatch.GetTimestamp());
                await jobs.EnqueueAsync(new Callback(), cancellationToken: cancellationToken);
                Interlocked.Exchange(ref _handMadeStored, Stopwatch.GetTimestamp());
            }
        }
    }

    internal sealed class CallbackHandler : IJobHandler<Callback>
    {
        public Task HandleAsync(Callback payload, JobContext context, CancellationToken cancellationToken)
        {
            _callbackStarted.TrySetResult(Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        }
    }

    internal sealed class NodeHandler : IJobHandler<Node>
    {
        public Task HandleAsync(Node payload, JobContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _dagDone);
            return Task.CompletedTask;
        }
    }
}
