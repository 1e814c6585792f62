namespace Conveyor.Storage.Conformance;

/// <summary>Identifiers at their limits: longest allowed values, every allowed character, and case.</summary>
public abstract partial class EnqueueTests
{
    [Fact]
    public async Task Enqueue_LongestAllowedIdentifiers_RoundTrip()
    {
        var id = "Id_-:." + new string('x', JobId.MaxLength - 6);
        var type = "domain_-." + new string('d', 40) + ":" + new string('a', JobType.MaxLength - 50);
        var queue = "Queue_-." + new string('q', QueueName.MaxLength - 8);
        var tenant = "Tenant_-." + new string('t', TenantId.MaxLength - 9);
        Assert.True(JobId.IsValid(id) && JobType.IsValid(type) && QueueName.IsValid(queue) && TenantId.IsValid(tenant));

        await EnqueueAsync(NewJob(id: id, type: type, queue: queue, tenant: tenant, uniqueKey: new string('k', 200), uniqueUntil: Now.AddHours(1)));

        var stored = await GetAsync(id, tenant);
        Assert.Equal(type, stored.Type);
        Assert.Equal(queue, stored.Queue);
        Assert.Equal(tenant, stored.Tenant);
        var leased = await DequeueOneAsync(queue);
        Assert.Equal(id, leased.Id);
        Assert.Equal(queue, Assert.Single(await Store.GetQueueStatsAsync(Ct)).Queue);
        Assert.Equal([id], (await Store.ListAsync(new JobQuery { Tenant = tenant, Queue = queue, Type = type }, Ct)).Jobs.Select(static j => j.Id));
    }

    [Fact]
    public async Task Enqueue_IdsDifferingOnlyInCase_AreDifferentJobs()
    {
        await EnqueueAsync(NewJob(id: "Report-1"));

        var result = await Store.EnqueueAsync(NewJob(id: "report-1"), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        Assert.Equal("Report-1", (await GetAsync("Report-1")).Id);
        Assert.Equal("report-1", (await GetAsync("report-1")).Id);
    }

    [Fact]
    public async Task Enqueue_QueuesDifferingOnlyInCase_AreDifferentQueues()
    {
        var upper = await EnqueueAsync(NewJob(queue: "Mail"));
        var lower = await EnqueueAsync(NewJob(queue: "mail"));

        Assert.Equal([upper], (await DequeueAsync(10, "Mail")).Select(static j => j.Id));
        Assert.Equal([lower], (await DequeueAsync(10, "mail")).Select(static j => j.Id));
        Assert.Equal(["Mail", "mail"], (await Store.GetQueueStatsAsync(Ct)).Select(static s => s.Queue));
    }

    [Fact]
    public async Task Enqueue_TenantsDifferingOnlyInCase_AreDifferentTenants()
    {
        var id = await EnqueueAsync(NewJob(tenant: "Acme"));

        Assert.Null(await Store.GetAsync("acme", id, Ct));
        Assert.Empty((await Store.ListAsync(new JobQuery { Tenant = "acme" }, Ct)).Jobs);
        Assert.Equal(JobCommandResult.NotFound, await Store.DeleteAsync("acme", id, Ct));
    }

    [Fact]
    public async Task Enqueue_UniqueKeysDifferingOnlyInCase_AreDifferentKeys()
    {
        await EnqueueAsync(NewJob(uniqueKey: "Invoice-7", uniqueUntil: Now.AddHours(1)));

        var result = await Store.EnqueueAsync(NewJob(uniqueKey: "invoice-7", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
    }

    [Fact]
    public async Task Enqueue_UniqueKeyWithAnyCharacters_IsMatchedExactly()
    {
        // Unique keys are free text chosen by applications: separators, spaces, quotes and non-ASCII included.
        const string key = "user:42|report \"Q1\" 'draft' % _ * ünï ✓ {tag}";
        var holder = await EnqueueAsync(NewJob(uniqueKey: key, uniqueUntil: Now.AddHours(1)));

        var same = await Store.EnqueueAsync(NewJob(uniqueKey: key, uniqueUntil: Now.AddHours(1)), Ct);
        var prefix = await Store.EnqueueAsync(NewJob(uniqueKey: "user:42|report", uniqueUntil: Now.AddHours(1)), Ct);

        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, same.Outcome);
        Assert.Equal(holder, same.JobId);
        Assert.Equal(EnqueueOutcome.Enqueued, prefix.Outcome);
        Assert.Equal(key, (await GetAsync(holder)).UniqueKey);
    }

    [Fact]
    public async Task Enqueue_FarFutureAndLongRetention_RoundTrip()
    {
        var processAt = new DateTimeOffset(2099, 12, 31, 23, 59, 59, 999, TimeSpan.Zero);

        var id = await EnqueueAsync(NewJob(processAt: processAt, deadline: processAt.AddDays(1), retention: TimeSpan.FromDays(3650), timeout: TimeSpan.FromDays(2)));

        var stored = await GetAsync(id);
        Assert.Equal(processAt, stored.ScheduledAt);
        Assert.Equal(processAt.AddDays(1), stored.Deadline);
        Assert.Equal(TimeSpan.FromDays(3650), stored.Retention);
        Assert.Equal(TimeSpan.FromDays(2), stored.Timeout);
        Assert.Equal(0, await Store.PromoteDueAsync(100, Ct));
    }

    [Fact]
    public async Task Enqueue_ProcessAtWithNonUtcOffset_IsTheSameInstant()
    {
        var processAt = new DateTimeOffset(2026, 1, 1, 2, 0, 0, TimeSpan.FromHours(1));

        var id = await EnqueueAsync(NewJob(processAt: processAt));

        var stored = await GetAsync(id);
        Assert.Equal(JobState.Scheduled, stored.State);
        Assert.Equal(processAt.UtcDateTime, stored.ScheduledAt!.Value.UtcDateTime);
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await Store.PromoteDueAsync(100, Ct));
    }
}
