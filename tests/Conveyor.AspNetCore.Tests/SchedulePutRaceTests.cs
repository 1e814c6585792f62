using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Scheduling;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// PUT /schedules/{name} creates or replaces: a DELETE of the same schedule that lands between its lookup and its write
/// must not make it answer that the schedule does not exist (404 is none of its answers).
/// </summary>
public sealed class SchedulePutRaceTests
{
    [Fact]
    public async Task Put_WhenTheScheduleIsDeletedBetweenTheLookupAndTheReplace_CreatesIt()
    {
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IScheduleClient>(
            sp => new DeletedBeforeEachReplace(ActivatorUtilities.CreateInstance<ScheduleClient>(sp), times: 1))));
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("report:nightly"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var put = await app.CallAsync(HttpMethod.Put, "/schedules/report:nightly", """{"cron": "15 4 * * *", "job_type": "test:noop"}""");

        Assert.True(put.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        using var got = await app.CallAsync(HttpMethod.Get, "/schedules/report:nightly", null);
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal("15 4 * * *", (await got.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cron").GetString());
    }

    [Fact]
    public async Task Put_WhenEveryReplaceFindsTheScheduleGone_StopsWithA409_NotA404()
    {
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IScheduleClient>(
            sp => new DeletedBeforeEachReplace(new RecreatedBeforeEachCreate(ActivatorUtilities.CreateInstance<ScheduleClient>(sp)), times: int.MaxValue))));
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("report:nightly"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var put = await app.CallAsync(HttpMethod.Put, "/schedules/report:nightly", """{"cron": "15 4 * * *", "job_type": "test:noop"}""");

        await ProblemAssert.IsProblemAsync(put, HttpStatusCode.Conflict);
    }

    /// <summary>A concurrent DELETE that lands right before each of the first <c>times</c> replaces.</summary>
    private sealed class DeletedBeforeEachReplace(IScheduleClient inner, int times) : ForwardingScheduleClient(inner)
    {
        private int _left = times;

        public override async Task<ScheduleRecord?> UpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Decrement(ref _left) >= 0)
            {
                await Inner.DeleteAsync(definition.Tenant, definition.Name, cancellationToken);
            }

            return await Inner.UpdateAsync(definition, cancellationToken);
        }
    }

    /// <summary>A concurrent PUT that creates the schedule right before each create (after the first).</summary>
    private sealed class RecreatedBeforeEachCreate(IScheduleClient inner) : ForwardingScheduleClient(inner)
    {
        private int _creates;

        public override async Task<ScheduleRecord?> CreateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _creates) > 1)
            {
                await Inner.CreateAsync(definition, cancellationToken);
            }

            return await Inner.CreateAsync(definition, cancellationToken);
        }
    }

    private abstract class ForwardingScheduleClient(IScheduleClient inner) : IScheduleClient
    {
        protected IScheduleClient Inner => inner;

        public Task<IReadOnlyList<ScheduleRecord>> ListAsync(string? tenant, CancellationToken cancellationToken = default) => inner.ListAsync(tenant, cancellationToken);

        public Task<ScheduleRecord?> GetAsync(string tenant, string name, CancellationToken cancellationToken = default) => inner.GetAsync(tenant, name, cancellationToken);

        public virtual Task<ScheduleRecord?> CreateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default) => inner.CreateAsync(definition, cancellationToken);

        public virtual Task<ScheduleRecord?> UpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default) => inner.UpdateAsync(definition, cancellationToken);

        public Task<bool> DeleteAsync(string tenant, string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(tenant, name, cancellationToken);

        public Task<ScheduleRecord?> PauseAsync(string tenant, string name, CancellationToken cancellationToken = default) => inner.PauseAsync(tenant, name, cancellationToken);

        public Task<ScheduleRecord?> ResumeAsync(string tenant, string name, CancellationToken cancellationToken = default) => inner.ResumeAsync(tenant, name, cancellationToken);

        public Task<EnqueueResult?> TriggerAsync(string tenant, string name, CancellationToken cancellationToken = default) => inner.TriggerAsync(tenant, name, cancellationToken);

        public IReadOnlyList<DateTimeOffset> NextTicks(ScheduleRecord schedule, int count) => inner.NextTicks(schedule, count);
    }
}
