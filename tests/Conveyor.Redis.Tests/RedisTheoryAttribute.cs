namespace Conveyor.Redis.Tests;

/// <summary>The theory form of <see cref="RedisFactAttribute"/>: skipped outside CI when Redis is absent, never in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        if (!RedisTestEnvironment.InCi && RedisTestEnvironment.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
