using System.Text;
using Conveyor.Storage;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// Jobs in mixed states, put straight into the store (enqueue, lease, acknowledge) as workers would leave them.
/// The operator key's tenant (acme) holds almost all of them; the tenant key's (globex) a few of its own.
/// </summary>
internal sealed class SeedData
{
    public const string LongError = "The upstream ledger refused the batch: ";

    public required IReadOnlyList<string> FailedCritical { get; init; }

    public required IReadOnlyList<string> FailedReports { get; init; }

    public required IReadOnlyList<string> LongErrorJobs { get; init; }

    public required IReadOnlyList<string> PagingJobs { get; init; }

    public required IReadOnlyList<string> GlobexJobs { get; init; }

    public required IReadOnlyList<string> AcmeQueued { get; init; }

    public static async Task<SeedData> SeedAsync(IJobStore store, int pagingJobs)
    {
        var now = DateTimeOffset.UtcNow;
        var seeder = new Seeder(store, now);
        var failedCritical = await seeder.AddAsync("acme", "critical", "billing:charge", 300, Outcome.Failed,
            _ => new JobError(1, "Payment gateway timed out after 30 s.", "System.TimeoutException", null, now));
        await seeder.AddAsync("acme", "critical", "billing:charge", 20, Outcome.Running);
        var failedReports = await seeder.AddAsync("acme", "default", "report:generate", 200, Outcome.Failed,
            i => new JobError(1, $"Disk full while writing report {i}.", "System.IO.IOException", null, now));
        await seeder.AddAsync("acme", "default", "note:archive", 1000, Outcome.Succeeded);
        await seeder.AddAsync("acme", "default", "note:archive", 100, Outcome.Retrying,
            _ => new JobError(1, "Search index unavailable.", "System.Net.Http.HttpRequestException", null, now));
        await seeder.AddAsync("acme", "default", "note:archive", 100, Outcome.Cancelled);
        await seeder.AddAsync("acme", "default", "note:archive", 100, Outcome.Scheduled);
        var longErrors = await seeder.AddAsync("acme", "long", "report:generate", 3, Outcome.Failed,
            i => new JobError(1, LongError + string.Concat(Enumerable.Repeat($"account-{i}-0123456789-rejected;", 150)), "Ledger.BatchRejectedException", null, now));
        var acmeQueued = await seeder.AddAsync("acme", "emails", "email:send", 1000, Outcome.Queued);
        var paging = await seeder.AddAsync("acme", "bulk", "import:row", pagingJobs, Outcome.Queued);
        var globex = new List<string>();
        globex.AddRange(await seeder.AddAsync("globex", "critical", "billing:charge", 50, Outcome.Failed,
            _ => new JobError(1, "Card declined.", "Billing.CardDeclinedException", null, now)));
        globex.AddRange(await seeder.AddAsync("globex", "emails", "email:send", 100, Outcome.Queued));

        await store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "charges-per-tenant", Queue = "critical", PerTenant = true, Limit = 5 }, CancellationToken.None);
        await store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Rate, Name = "gateway", Queue = "critical", JobType = "billing:charge", Limit = 100, Period = TimeSpan.FromSeconds(1), Burst = 20, Source = LimitSource.Api }, CancellationToken.None);
        await store.HeartbeatServerAsync(new ServerInfo
        {
            Id = "worker-eu-1:4242",
            Host = "worker-eu-1",
            ProcessId = 4242,
            Queues = new Dictionary<string, int> { ["critical"] = 6, ["default"] = 3, ["emails"] = 1 },
            Concurrency = 20,
            ActiveJobs = 20,
            StartedAt = now.AddHours(-3),
            LastHeartbeatAt = now,
            ExpiresAt = now.AddHours(1),
        }, CancellationToken.None);

        return new SeedData
        {
            FailedCritical = failedCritical,
            FailedReports = failedReports,
            LongErrorJobs = longErrors,
            PagingJobs = paging,
            GlobexJobs = globex,
            AcmeQueued = acmeQueued,
        };
    }

    internal enum Outcome
    {
        Queued,
        Scheduled,
        Running,
        Succeeded,
        Retrying,
        Failed,
        Cancelled,
    }

    private sealed class Seeder(IJobStore store, DateTimeOffset now)
    {
        /// <summary>Adds jobs to an otherwise empty-of-pending queue, and leases and acknowledges them into their state.</summary>
        public async Task<IReadOnlyList<string>> AddAsync(string tenant, string queue, string type, int count, Outcome outcome, Func<int, JobError>? error = null)
        {
            var ids = new List<string>(count);
            for (var start = 0; start < count; start += 1000)
            {
                var batch = Enumerable.Range(start, Math.Min(1000, count - start)).Select(i => new NewJob
                {
                    Id = JobId.New(),
                    Type = type,
                    Queue = queue,
                    Tenant = tenant,
                    Payload = Encoding.UTF8.GetBytes($$"""{"n":{{i}},"tenant":"{{tenant}}","note":"seeded for the dashboard tests"}"""),
                    MaxRetry = 3,
                    ProcessAt = outcome == Outcome.Scheduled ? now.AddDays(1) : null,
                    Retention = TimeSpan.FromDays(7),
                }).ToList();
                await store.EnqueueManyAsync(batch, CancellationToken.None);
                ids.AddRange(batch.Select(j => j.Id));
            }

            switch (outcome)
            {
                case Outcome.Queued or Outcome.Scheduled:
                    break;
                case Outcome.Cancelled:
                    foreach (var id in ids)
                    {
                        await store.CancelAsync(tenant, id, CancellationToken.None);
                    }

                    break;
                default:
                    await LeaseAndAcknowledgeAsync(queue, ids, outcome, error);
                    break;
            }

            return ids;
        }

        private async Task LeaseAndAcknowledgeAsync(string queue, List<string> ids, Outcome outcome, Func<int, JobError>? error)
        {
            var leased = new List<LeasedJob>();
            while (leased.Count < ids.Count)
            {
                var page = await store.DequeueAsync(new DequeueRequest
                {
                    Queues = [new QueueQuota(queue, ids.Count - leased.Count)],
                    Limit = Math.Min(500, ids.Count - leased.Count),
                    ServerId = "worker-eu-1:4242",
                    LeaseDuration = TimeSpan.FromHours(2),
                }, CancellationToken.None);
                Assert.NotEmpty(page);
                leased.AddRange(page);
            }

            if (outcome == Outcome.Running)
            {
                return;
            }

            var acknowledgements = leased.Select((job, i) => new JobAcknowledgement
            {
                JobId = job.Id,
                LeaseToken = job.LeaseToken,
                Outcome = outcome switch
                {
                    Outcome.Succeeded => AckOutcome.Succeeded,
                    Outcome.Retrying => AckOutcome.Retry,
                    _ => AckOutcome.Failed,
                },
                RetryAt = outcome == Outcome.Retrying ? now.AddHours(1) : null,
                Error = error?.Invoke(i) is { } e ? e with { OccurredAt = DateTimeOffset.UtcNow } : null,
                Result = outcome == Outcome.Succeeded ? Encoding.UTF8.GetBytes("""{"archived":true}""") : null,
            }).ToList();
            for (var start = 0; start < acknowledgements.Count; start += 500)
            {
                await store.AcknowledgeManyAsync(acknowledgements.Skip(start).Take(500).ToList(), CancellationToken.None);
            }
        }
    }
}
