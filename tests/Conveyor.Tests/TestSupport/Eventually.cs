namespace Conveyor.Tests.TestSupport;

/// <summary>Waits for a condition with a deadline instead of sleeping a guessed amount.</summary>
internal static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Condition not met within {timeout ?? TimeSpan.FromSeconds(10)}{(because is null ? "" : ": " + because)}");
            }

            await Task.Delay(10);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        HoldsAsync(() => Task.FromResult(condition()), timeout, because);
}
