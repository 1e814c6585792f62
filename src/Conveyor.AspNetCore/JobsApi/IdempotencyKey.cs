using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Conveyor.Workflows;

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

    /// <summary>
    /// The request's <c>Idempotency-Key</c>: true with null when there is none, false with a 400 for a malformed one.
    /// </summary>
    public static bool TryRead(HttpRequest request, out string? key, out ValidationProblem? problem)
    {
        key = null;
        problem = null;
        if (!request.Headers.TryGetValue(HeaderName, out var values))
        {
            return true;
        }

        key = values.Count == 1 ? values[0] : null;
        if (key is null || !IsValid(key))
        {
            key = null;
            problem = ApiProblems.Invalid(HeaderName, $"must be one value of 1 to {MaxLength} visible ASCII characters (a UUID is a good choice).");
            return false;
        }

        return true;
    }

    public static string ToJobId(string tenant, string key) => JobIdPrefix + Hash(tenant + "\n" + key);

    /// <summary>
    /// The id of one job of a request that creates several (<paramref name="part"/>: "batch\n3", "step\nextract"…). A key
    /// has no line break, so no part collides with another part or with the key of a <c>POST /jobs</c>.
    /// </summary>
    public static string ToJobId(string tenant, string key, string part) => ToJobId(tenant, key + "\n" + part);

    /// <summary>The id of the batch (<paramref name="kind"/> "batch") or workflow ("workflow") a request with this key creates.</summary>
    public static string ToBatchId(string tenant, string key, string kind) => BatchId.Prefix + Hash(tenant + "\n" + key + "\n" + kind);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    /// <summary>True when the stored job was created by the same request (type, queue, payload, max retry).</summary>
    public static bool SameRequest(JobInfo stored, CreateJobRequest request, int defaultMaxRetry) =>
        string.Equals(stored.Type, request.Type, StringComparison.Ordinal)
        && string.Equals(stored.Queue, request.Options.Queue ?? QueueName.Default, StringComparison.Ordinal)
        && stored.MaxRetry == (request.Options.MaxRetry ?? defaultMaxRetry)
        && SamePayload(stored.Payload, request.Payload);

    /// <summary>
    /// The same JSON value: a retry that rebuilds its payload from a map may order an object's members otherwise (RFC 8259:
    /// they are unordered) or write a number otherwise (1.0, 1e0), and is still the same request.
    /// </summary>
    private static bool SamePayload(ReadOnlyMemory<byte> stored, ReadOnlyMemory<byte> requested)
    {
        if (stored.Span.SequenceEqual(requested.Span))
        {
            return true;
        }

        try
        {
            using var a = JsonDocument.Parse(stored);
            using var b = JsonDocument.Parse(requested);
            return JsonElement.DeepEquals(a.RootElement, b.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when the stored job waits for the jobs the <c>POST /jobs</c> request names in <c>after</c>, in any order, under
    /// its <c>on_dependency_failure</c>; a request without <c>after</c> matches a job that waits for none. Jobs of batches
    /// and workflows are not compared so: they also wait for their batch or for other steps.
    /// </summary>
    public static bool SameDependencies(JobInfo stored, CreateJobRequest request)
    {
        var after = request.Options.After ?? [];
        return stored.DependsOn.Count == after.Count
            && after.All(id => stored.DependsOn.Contains(request.Options.AfterCondition.ToDependency(id)));
    }
}
