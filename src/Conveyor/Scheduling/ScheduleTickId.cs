using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Conveyor.Scheduling;

/// <summary>
/// The id of a tick's job, derived from the schedule (tenant and name) and the tick's instant: every scheduler that
/// handles the same tick enqueues the same id, and the store refuses the second (<see cref="EnqueueOutcome.DuplicateId"/>),
/// so a tick gets one job however many servers run. <c>sch:{tenant}:{name}:{yyyyMMddTHHmmssZ}</c>, or, when that would
/// be longer than an id may be, a hash of tenant and name in their place.
/// </summary>
internal static class ScheduleTickId
{
    public const string Prefix = "sch:";
    private const string InstantFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static string For(string tenant, string name, DateTimeOffset tick)
    {
        var instant = tick.UtcDateTime.ToString(InstantFormat, CultureInfo.InvariantCulture);
        var readable = $"{Prefix}{tenant}:{name}:{instant}";
        if (readable.Length <= JobId.MaxLength)
        {
            return readable;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{tenant}\n{name}")))[..32];
        return $"{Prefix}{hash}:{instant}";
    }

    /// <summary>The tick's instant from a tick job's id; null for any other id.</summary>
    public static DateTimeOffset? ScheduledAt(string jobId)
    {
        if (!jobId.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var separator = jobId.LastIndexOf(':');
        return DateTime.TryParseExact(jobId.AsSpan(separator + 1), InstantFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : null;
    }
}
