namespace Conveyor;

/// <summary>Tenants isolate jobs: every read by id and every listing is scoped to one tenant.</summary>
public static class TenantId
{
    /// <summary>The tenant of jobs enqueued without one (an application with a single tenant).</summary>
    public const string Default = "default";

    /// <summary>Longest tenant id accepted.</summary>
    public const int MaxLength = 64;

    /// <summary>True for 1 to 64 characters of letters, digits, '_', '-' and '.'.</summary>
    public static bool IsValid(string? tenant) => QueueName.IsValid(tenant);
}
