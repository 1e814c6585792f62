using Conveyor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// A handler's waits and sleeps against the store: the store keeps times to the microsecond, so a deadline the handler
/// sets must have passed by the handler's measure as soon as it has by the store's. Otherwise the store ends the park
/// (or makes the sleeping job due) while the handler, comparing ticks, waits again, and the job is parked and released
/// over and over until the clock leaves that microsecond (forever under a frozen clock).
/// </summary>
public abstract partial class SignalTests
{
    private static readonly IServiceProvider NoServices = new ServiceCollection().BuildServiceProvider();

    /// <summary>A handler's context for an attempt of <paramref name="leased"/>, as the worker builds it.</summary>
    private JobContext Attempt(LeasedJob leased) =>
        new(leased, NoServices, Store, Time, static (_, _) => [], new RunningJob(leased), CancellationToken.None);

    [Fact]
    public async Task AWaitForSeveralSignals_InTheMicrosecondOfItsDeadline_HasTimedOut_AsTheStoreSays()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        var first = Attempt(leased);
        // Five ticks into the hour's first microsecond: the store keeps the hour itself.
        var approved = first.WaitForSignalAsync(Name, TimeSpan.FromHours(1) + TimeSpan.FromTicks(5), Ct).AsTask();
        var rejected = first.WaitForSignalAsync("rejected", TimeSpan.FromHours(2), Ct).AsTask();
        await Assert.ThrowsAsync<JobSuspendedException>(() => approved);
        await Assert.ThrowsAsync<JobSuspendedException>(() => rejected);
        var park = first.SignalWaitRequest!;
        Assert.Equal(JobSignalWaitOutcome.Parked, (await Store.AwaitSignalAsync(id, leased.LeaseToken, park.Names, park.Until, recordTimeout: park.Names.Count == 1, JobSignal.WaitReason(park.Names, park.Until), Ct)).Outcome);

        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));
        var again = await DequeueOneAsync();
        var second = Attempt(again);
        Assert.Null(await second.WaitForSignalAsync(Name, TimeSpan.FromHours(1) + TimeSpan.FromTicks(5), Ct));
        await Assert.ThrowsAsync<JobSuspendedException>(() => second.WaitForSignalAsync("rejected", TimeSpan.FromHours(2), Ct).AsTask());
        park = second.SignalWaitRequest!;
        Assert.Equal(["rejected"], park.Names);
        Assert.Equal(JobSignalWaitOutcome.Parked, (await Store.AwaitSignalAsync(id, again.LeaseToken, park.Names, park.Until, recordTimeout: park.Names.Count == 1, JobSignal.WaitReason(park.Names, park.Until), Ct)).Outcome);
        Assert.Equal(JobSignalResult.WaitTimedOut, await SignalAsync(id));
    }

    [Fact]
    public async Task ASleep_InTheMicrosecondOfItsTime_IsOver_AsTheStoreSays()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();
        var wakeUp = Now.AddHours(1).AddTicks(5);
        var first = Attempt(leased);
        await Assert.ThrowsAsync<JobSuspendedException>(() => first.SleepUntilAsync(wakeUp).AsTask());
        var snooze = first.SleepRequest!;
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Snoozed) with { SnoozeUntil = snooze.Until, SnoozeReason = snooze.Reason }));

        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));
        var second = Attempt(await DequeueOneAsync());
        await second.SleepUntilAsync(wakeUp);
        await second.SleepAsync("after", TimeSpan.FromTicks(5));
    }
}
