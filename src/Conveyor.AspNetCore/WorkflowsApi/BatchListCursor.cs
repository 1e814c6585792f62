using Conveyor.Storage;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>
/// The cursor of <c>GET /batches</c> and <c>GET /workflows</c> (one keyset, so either takes the other's): the store's (a
/// <see cref="JobCursor"/> of a batch) behind <c>b.</c>, so that they and the job listings know their own cursors. A job listing's cursor and a batch listing's are otherwise the
/// same keyset, and one given to the other listing started it at an unrelated place instead of being refused; the dot
/// is not in a job cursor's alphabet, so a job listing refuses a batch cursor as it refuses any other text.
/// </summary>
internal static class BatchListCursor
{
    private const string Prefix = "b.";

    public static string? FromStore(string? cursor) => cursor is null ? null : Prefix + cursor;

    /// <summary>The store's cursor, or null when <paramref name="text"/> is not a cursor of a batch listing.</summary>
    public static string? ToStore(string text)
    {
        var store = text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..] : null;
        return JobCursor.TryDecode(store, out var cursor) && BatchId.IsValid(cursor.JobId) ? store : null;
    }
}
