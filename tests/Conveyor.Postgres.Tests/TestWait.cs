using System.Diagnostics;

namespace Conveyor.Postgres.Tests;

/// <summary>Waits on conditions in real time with a deadline, never on a bare sleep.</summary>
internal static class TestWait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var limit = timeout ?? Deadline;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Condition not met within {limit}{(because is null ? "" : ": " + because)}.");
            }

            await Task.Delay(10);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, because);

    /// <summary>Asserts that <paramref name="task"/> is still running after <paramref name="window"/> of real time.</summary>
    public static async Task AssertStillRunningAsync(Task task, TimeSpan window, string because)
    {
        await Task.WhenAny(task, Task.Delay(window));
        Assert.False(task.IsCompleted, because);
    }

    /// <summary>Awaits <paramref name="task"/>, failing the test if it has not completed within the deadline.</summary>
    public static async Task<T> CompletesAsync<T>(Task<T> task, string because)
    {
        var finished = await Task.WhenAny(task, Task.Delay(Deadline));
        Assert.True(finished == task, because);
        return await task;
    }
}
