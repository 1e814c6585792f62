namespace Conveyor.Storage.Conformance;

/// <summary>
/// WaitForJobs: an idle worker's wait ends on a signal from the same store instance, or with false after
/// its timeout as measured by the store's <see cref="TimeProvider"/>.
/// </summary>
public abstract class WaitForJobsTests : JobStoreTestBase
{
    // The fake clock never reaches this unless a test moves it: a true result can only come from a signal.
    private static readonly TimeSpan LongTimeout = TimeSpan.FromMinutes(1);

    // How long, in real time, a signal may take to arrive.
    private static readonly TimeSpan RealDeadline = TimeSpan.FromSeconds(5);

    private Task<bool> StartWait() => Store.WaitForJobsAsync(LongTimeout, Ct).AsTask();

    /// <summary>
    /// Repeats <paramref name="poke"/> until <paramref name="wait"/> completes or the real deadline passes, so
    /// that a store which starts listening a moment after the call returns is not failed for that.
    /// </summary>
    private static async Task<bool> CompletesAfterAsync(Task<bool> wait, Func<Task> poke)
    {
        var deadline = DateTime.UtcNow + RealDeadline;
        while (!wait.IsCompleted && DateTime.UtcNow < deadline)
        {
            await poke();
            await Task.WhenAny(wait, Task.Delay(TimeSpan.FromMilliseconds(250)));
        }

        Assert.True(wait.IsCompleted, $"The wait did not end within {RealDeadline} of real time.");
        return await wait;
    }

    /// <summary>
    /// Consumes signals left over from the test's set-up (a store may keep one for the next wait), so that
    /// the wait that follows can only be ended by what the test does next.
    /// </summary>
    private async Task DrainSignalsAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            var wait = Store.WaitForJobsAsync(TimeSpan.FromSeconds(1), Ct).AsTask();
            var signalled = await CompletesAfterAsync(wait, () =>
            {
                Time.Advance(TimeSpan.FromSeconds(2));
                return Task.CompletedTask;
            });
            if (!signalled)
            {
                return;
            }
        }

        Assert.Fail("The store kept reporting a signal with nothing happening.");
    }

    [Fact]
    public async Task Wait_EnqueueDuringWait_CompletesWithTrueBeforeTimeout()
    {
        var wait = StartWait();

        Assert.True(await CompletesAfterAsync(wait, async () => await EnqueueAsync()));
    }

    [Fact]
    public async Task Wait_EnqueueAfterADequeueBegan_CompletesWithTrueAtOnce()
    {
        await DrainSignalsAsync();
        Assert.Empty(await Store.DequeueAsync(Request(10), Ct));
        await EnqueueAsync();

        // The job came after the dequeue began, which may not have seen it: the wait that follows does not block.
        var wait = Store.WaitForJobsAsync(LongTimeout, Ct).AsTask();
        Assert.True(await CompletesAfterAsync(wait, () => Task.CompletedTask));
    }

    [Fact]
    public async Task Wait_EnqueueManyDuringWait_CompletesWithTrue()
    {
        var wait = StartWait();

        Assert.True(await CompletesAfterAsync(wait, async () => await Store.EnqueueManyAsync([NewJob(), NewJob()], Ct)));
    }

    [Fact]
    public async Task Wait_EnqueueDuringWait_WakesEveryWaiter()
    {
        var first = StartWait();
        var second = StartWait();

        Assert.True(await CompletesAfterAsync(first, async () => await EnqueueAsync()));
        Assert.True(await CompletesAfterAsync(second, async () => await EnqueueAsync()));
    }

    [Fact]
    public async Task Wait_PromotionDuringWait_CompletesWithTrue()
    {
        var wait = StartWait();

        Assert.True(await CompletesAfterAsync(wait, async () =>
        {
            await EnqueueAsync(NewJob(processAt: Now.AddMilliseconds(1)));
            Time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, await Store.PromoteDueAsync(10, Ct));
        }));
    }

    [Fact]
    public async Task Wait_ReleaseDuringWait_CompletesWithTrue()
    {
        var ids = await EnqueueManyAsync(20);
        var leased = await DequeueAsync(20);
        var next = 0;
        await DrainSignalsAsync();
        var wait = StartWait();

        Assert.True(await CompletesAfterAsync(wait, async () => Assert.True(await AckAsync(Ack(leased[next++], AckOutcome.Released)))));
        Assert.Equal(ids.Count, leased.Count);
    }

    [Fact]
    public async Task Wait_RecoveryToPendingDuringWait_CompletesWithTrue()
    {
        // A recovered job is ready again, as a released one is.
        await EnqueueManyAsync(20);
        await DequeueAsync(20, DefaultQueue);
        await DrainSignalsAsync();
        // The leases expire before the wait starts: a poke that moved the clock as well would let a slow run reach
        // the wait's own timeout (a minute of fake time) in two pokes, before the recovery's signal is seen.
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        var wait = StartWait();

        Assert.True(await CompletesAfterAsync(wait, async () => Assert.Single(await Store.RecoverExpiredLeasesAsync(1, Ct))));
    }

    [Fact]
    public async Task Wait_RequeueDuringWait_CompletesWithTrue()
    {
        // An operator's requeue should run at once, not after a poll interval.
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await CreateJobInStateAsync(JobState.Scheduled));
        }

        var next = 0;
        await DrainSignalsAsync();
        var wait = StartWait();

        Assert.True(await CompletesAfterAsync(wait, async () =>
            Assert.Equal(JobCommandResult.Done, await Store.RequeueAsync(DefaultTenant, ids[next++], Ct))));
    }

    [Fact]
    public async Task Wait_NothingHappens_CompletesWithFalseWhenFakeTimePassesTheTimeout()
    {
        var wait = StartWait();

        // Moving the clock again at each try covers a store that arms its timer a moment after the call.
        Assert.False(await CompletesAfterAsync(wait, () =>
        {
            Time.Advance(LongTimeout + TimeSpan.FromSeconds(1));
            return Task.CompletedTask;
        }));
    }

    [Fact]
    public async Task Wait_TimeoutNotYetPassed_IsStillWaitingForASignal()
    {
        var wait = StartWait();
        Time.Advance(LongTimeout - TimeSpan.FromSeconds(1));

        // Had the wait ended at the partial advance, it would have ended with false.
        Assert.True(await CompletesAfterAsync(wait, async () => await EnqueueAsync()));
    }

    [Fact]
    public async Task Wait_ShortTimeout_CompletesWithFalse()
    {
        var wait = Store.WaitForJobsAsync(TimeSpan.FromMilliseconds(100), Ct).AsTask();

        Assert.False(await CompletesAfterAsync(wait, () =>
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            return Task.CompletedTask;
        }));
    }

    /// <summary>
    /// The server cancels the wait that lost its race against its own process's signal at nearly every wake-up: an
    /// exception each time was about a hundred a second on a server at 100 jobs/s.
    /// </summary>
    [Fact]
    public async Task Wait_Cancelled_EndsAtOnceAnsweringFalse_WithoutThrowing()
    {
        await DrainSignalsAsync();
        using var cancellation = new CancellationTokenSource();
        var wait = Store.WaitForJobsAsync(LongTimeout, cancellation.Token).AsTask();

        await cancellation.CancelAsync();

        var completed = await Task.WhenAny(wait, Task.Delay(RealDeadline));
        Assert.Same(wait, completed);
        Assert.True(wait.IsCompletedSuccessfully, $"the cancelled wait ended {wait.Status}");
        Assert.False(await wait);
    }

    [Fact]
    public async Task Wait_WithATokenAlreadyCancelled_AnswersFalseWithoutThrowing()
    {
        await DrainSignalsAsync();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        var wait = Store.WaitForJobsAsync(LongTimeout, cancellation.Token).AsTask();

        var completed = await Task.WhenAny(wait, Task.Delay(RealDeadline));
        Assert.Same(wait, completed);
        Assert.True(wait.IsCompletedSuccessfully, $"the cancelled wait ended {wait.Status}");
        Assert.False(await wait);
    }

    [Fact]
    public async Task Wait_AfterASignalledWait_WaitsAgain()
    {
        Assert.True(await CompletesAfterAsync(StartWait(), async () => await EnqueueAsync()));

        // A second wait must not be left completed by the first signal for ever: with nothing new it times out.
        var again = StartWait();
        var results = new List<bool>();
        var deadline = DateTime.UtcNow + RealDeadline;
        while (DateTime.UtcNow < deadline)
        {
            var result = await CompletesAfterAsync(again, () =>
            {
                Time.Advance(LongTimeout + TimeSpan.FromSeconds(1));
                return Task.CompletedTask;
            });
            results.Add(result);
            if (!result)
            {
                break;
            }

            again = StartWait();
        }

        // A store may report one leftover signal (it cannot know the worker already saw the job), not more.
        Assert.False(results[^1]);
        Assert.True(results.Count <= 2, $"The wait kept reporting a signal: {string.Join(", ", results)}.");
    }
}
