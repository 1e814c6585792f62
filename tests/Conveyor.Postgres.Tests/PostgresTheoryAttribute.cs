namespace Conveyor.Postgres.Tests;

/// <summary>
/// A theory that needs the PostgreSQL test cluster: skipped, with the reason, when the cluster is missing or silent,
/// except in CI (CI=true), where it runs and fails so that a missing server is never mistaken for a pass.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!PostgresTestServer.IsCi && PostgresTestServer.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}
