using Conveyor.Bench;

// Conveyor's own benchmark program (bench/README.md has the exact commands and the latest numbers).
//   --scenario basic          enqueue (single, bulk), drain@C and latency at one rate (the default)
//   --scenario drain-scale    drain jobs/s with --sizes waiting (10k,100k,1M), memory per waiting job
//   --scenario concurrency    drain jobs/s with --levels concurrent handlers (--io-ms 10: handlers await I/O)
//   --scenario latency        enqueue-to-start p50/p99/max at --rates offered jobs/s (--seconds each)
//   --scenario enqueue-breakdown  Redis only: PING, EVALSHA, 2 batched EVALSHAs, EnqueueAsync, µs per awaited call
//   --scenario kill           time for the job of a SIGKILLed worker process to run again in another one
//                             (--backlog N: N jobs of --io-ms each queued behind it)
//   --scenario soak           --rates[0] jobs/s for --seconds, --retention-seconds; per --window: store size, backlog, p50/p99
//   --scenario fan-out        publishes/s of one event to 5 subscribers (5 jobs all or none per publish), 1 and 16 callers
//   --scenario footprint      bytes of store per finished job: --n jobs enqueued and acknowledged, size before and after
//   --scenario steps          µs per stored durable step, and per park + signal + resume of a wait for a signal (--n jobs)
//   --scenario schedule-lateness  --schedules N schedules every second for --seconds: how late each tick's job starts
//   --scenario schedule-idle  for each of --schedules (0,10000) schedules due in weeks, an idle server: store calls/s, CPU
//   --scenario fairness       tenant A's --n jobs (default 1,000,000) waiting, one job of tenant B behind them: B's
//                             time to start and the drain rate, with the queue fair (Conveyor:Limits:FairQueues) and not
//   --scenario dashboard      --n finished jobs (1 in 11 failed) behind the Jobs API over HTTP: overview, failed list page
//                             1 and 100, a filtered list, a job's detail (--reps runs each), a bulk retry of 10,000
//   --scenario workflows      a batch's callback delay, a 1,000-node DAG against the same jobs independent, and the
//                             drain of plain jobs beside waiting workflows, a drain of one batch's members against plain jobs
//                             (--reps runs each); --parts callback,store,dag,drain,members
//                             runs only those named
//   --scenario rate-accuracy  --rate-limit N held by --processes (3) worker processes for --seconds (60): starts per
//                             second, the running count against burst + N × t, each process's share
//   --concurrency-limit N     a concurrency limit of N on the drains' queue (not hit when N >= --concurrency)
//   --rate-limit N            a rate limit of N starts per second (burst N) on the drains' queue
//   --idempotent              the drains' jobs are an idempotent handler's (a key each): the idempotency step's cost
//   --store memory|sqlite|redis|postgres  --redis <StackExchange.Redis config>  --postgres <connection string>
var settings = BenchSettings.Parse(args);
if (settings.Role == "victim")
{
    await KillScenario.RunVictimAsync(settings);
    return;
}

if (settings.Role == "rate-worker")
{
    await RateAccuracyScenario.RunWorkerAsync(settings);
    return;
}

Console.WriteLine($"scenario={settings.Scenario} store={settings.Store} cores={Environment.ProcessorCount} load={File.ReadAllText("/proc/loadavg").Trim()}");
switch (settings.Scenario)
{
    case "basic":
        await BasicScenario.RunAsync(settings);
        break;
    case "drain-scale":
        await DrainScaleScenario.RunAsync(settings);
        break;
    case "concurrency":
        await ConcurrencyScenario.RunAsync(settings);
        break;
    case "latency":
        await LatencyScenario.RunAsync(settings);
        break;
    case "enqueue-breakdown":
        await EnqueueBreakdownScenario.RunAsync(settings);
        break;
    case "kill":
        await KillScenario.RunAsync(settings);
        break;
    case "fan-out":
        await FanOutScenario.RunAsync(settings);
        break;
    case "soak":
        await SoakScenario.RunAsync(settings);
        break;
    case "footprint":
        await FootprintScenario.RunAsync(settings);
        break;
    case "steps":
        await StepsScenario.RunAsync(settings);
        break;
    case "scrape":
        await ScrapeScenario.RunAsync(settings);
        break;
    case "schedule-lateness":
        await ScheduleScenario.RunLatenessAsync(settings);
        break;
    case "fairness":
        await FairnessScenario.RunAsync(settings);
        break;
    case "dashboard":
        await DashboardScenario.RunAsync(settings);
        break;
    case "rate-accuracy":
        await RateAccuracyScenario.RunAsync(settings);
        break;
    case "workflows":
        await WorkflowScenario.RunAsync(settings);
        break;
    case "schedule-idle":
        await ScheduleScenario.RunIdleAsync(settings);
        break;
    default:
        throw new ArgumentException($"unknown --scenario {settings.Scenario}");
}
