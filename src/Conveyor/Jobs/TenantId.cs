namespace Conveyor;

/// <summary>Tenants isolate jobs: every read by id and every listing is scoped to one tenant.</summary>
public static class TenantId
{
    /// <summary>The tenant of jobs enqueued without one (an application with a single tenant).</summary>
    public const string Default = "default";

    /// <summary>Longest tenant id accepted.</summary>
    public const int MaxLength = 64;

    /// <summary>True for 1 to 64 characters of letters, digits, '_', '-' and '.', other than '.' and '..'.</summary>
    public static bool IsValid(string? tenant) => QueueName.IsValid(tenant) && !IsDotName(tenant);

    /// <summary>
    /// The rule of <see cref="IsValid"/>, in words, for messages.
    /// </summary>
    internal static readonly string Rule = $"1 to {MaxLength} letters, digits, '_', '-' or '.', other than '.' and '..'";

    /// <summary>
    /// True for '.' and '..'. A tenant's name ends up in paths and keys (a handler may keep a tenant's files under
    /// a folder of that name), where they mean the folder itself and its parent: one tenant's files would land among
    /// everything else's.
    /// </summary>
    internal static bool IsDotName(string? tenant) => tenant is "." or "..";

    /// <summary>
    /// True for a tenant a store may hold: the shape earlier versions accepted, '.' and '..' included. Reads and the
    /// work on jobs already stored take these, so that data written before the rule stays readable; new jobs, schedules
    /// and keys take <see cref="IsValid"/>.
    /// </summary>
    internal static bool IsStored(string? tenant) => QueueName.IsValid(tenant);

    /// <summary>Why <paramref name="tenant"/> is not a tenant id (it is not <see cref="IsValid"/>).</summary>
    internal static string Problem(string? tenant) => IsDotName(tenant)
        ? $"'{tenant}' cannot be a tenant id: '.' and '..' mean a folder itself and its parent in a file path, where a tenant's name may end up; choose another."
        : $"'{tenant}' is not a tenant id: use {Rule}.";
}
