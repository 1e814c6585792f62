namespace Conveyor.Redis.Tests;

/// <summary>
/// A test that needs the test Redis. Outside CI it is skipped, saying why, when Redis is not there; in CI
/// (CI=true) it is never skipped, so a missing Redis fails the run instead of passing it silently.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisTestEnvironment.InCi && RedisTestEnvironment.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
