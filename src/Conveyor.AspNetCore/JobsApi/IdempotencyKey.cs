using System.Security.Cryptography;
using System.Text;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Idempotent create without an extra record: the job id is derived from (tenant, key), so a repeat is refused by the
/// store as a duplicate id in the same atomic step that would have stored it, and the stored job is the first answer.
/// The key is remembered as long as that job exists (until its retention passes after it finishes).
/// </summary>
internal static class IdempotencyKey
{
    public const string HeaderName = "Idempotency-Key";
    public const int MaxLength = 255;
    public const string JobIdPrefix = "idem_";

    public static bool IsValid(string key)
    {
        if (key.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    public static string ToJobId(string tenant, string key)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(tenant + "\n" + key));
        return JobIdPrefix + Convert.ToHexStringLower(hash)[..32];
    }

    /// <summary>True when the stored job was created by the same request (type, queue, payload, max retry).</summary>
    public static bool SameRequest(JobInfo stored, CreateJobRequest request, int defaultMaxRetry) =>
        string.Equals(stored.Type, request.Type, StringComparison.Ordinal)
        && string.Equals(stored.Queue, request.Options.Queue ?? QueueName.Default, StringComparison.Ordinal)
        && stored.MaxRetry == (request.Options.MaxRetry ?? defaultMaxRetry)
        && stored.Payload.Span.SequenceEqual(request.Payload.Span);
}
