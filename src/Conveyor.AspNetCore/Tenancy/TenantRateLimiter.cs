using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore;

/// <summary>One token bucket per tenant (System.Threading.RateLimiting), refilled ten times a second for a smooth rate.</summary>
internal sealed class TenantRateLimiter : IDisposable
{
    private static readonly RateLimitLease Unlimited = new UnlimitedLease();

    private readonly PartitionedRateLimiter<string>? _limiter;

    public TenantRateLimiter(IOptions<ConveyorApiOptions> options)
    {
        var settings = options.Value.RateLimit;
        if (!settings.Enabled)
        {
            return;
        }

        var (period, tokens) = settings.PermitsPerSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), settings.PermitsPerSecond / 10)
            : (TimeSpan.FromSeconds(1), settings.PermitsPerSecond);
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(tenant => RateLimitPartition.GetTokenBucketLimiter(tenant, _ => bucket));
    }

    public RateLimitLease Acquire(string tenant) => _limiter?.AttemptAcquire(tenant) ?? Unlimited;

    public void Dispose() => _limiter?.Dispose();

    private sealed class UnlimitedLease : RateLimitLease
    {
        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
