using Conveyor.Limits;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Brings the limits in force from the store, every <see cref="ConveyorLimitsOptions.RefreshInterval"/>: one list of
/// the definitions per tick, whatever the number of jobs. At start it writes this server's configured limits (the
/// seed): a new one is created, one the configuration changed is replaced, one changed through the API is kept
/// (the store refuses a configured limit over an API one); a start the store did not answer is seeded at the first
/// tick it answers. At every tick it writes again a configured limit the store lacks, so that deleting an API
/// override brings the configured value back. After each read, the jobs this server snoozed to turns of a rate limit
/// since removed or changed start now (<see cref="ServedLimits.StartWaitingOfChangedLimitsAsync"/>).
/// </summary>
internal sealed class LimitsRefresher(
    IJobStore store,
    LimitsInForce inForce,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger,
    ServedLimits? served = null) : PeriodicComponent(interval, timeProvider, logger)
{
    private readonly IReadOnlyList<LimitRecord> _configured = LimitDefinitions.FromOptions(inForce.Configured);
    private IReadOnlyList<LimitRecord>? _last;
    private bool _seeded;
    private DateTimeOffset? _firstTry;
    private bool _warnedOfLimitsConfiguredElsewhere;

    protected override string Name => "Limits refresher";

    /// <summary>Writes the configured limits the store lacks or holds from an older configuration, then reads the list.</summary>
    public Task SeedAsync(CancellationToken cancellationToken) => RefreshAsync(cancellationToken);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (served is not null && await served.StartWaitingOfChangedLimitsAsync(cancellationToken).ConfigureAwait(false) is var started and > 0)
        {
            Log.StartedWaitingOfChangedLimits(Logger, started);
        }
    }

    /// <summary>
    /// Until one pass has written this server's configuration, a configured limit the store holds from an older
    /// configuration is replaced (a seed the store did not answer at start is written in full at the first tick it
    /// answers), unless it was written since this server's first try, by a server started later, whose configuration
    /// stays the last one; after that only a missing one is written again, so that two servers configured differently
    /// mid rolling deploy do not replace each other's limit at every tick.
    /// </summary>
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        _firstTry ??= TimeProvider.GetUtcNow();
        var read = inForce.BeginRead();
        var stored = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        var written = false;
        foreach (var limit in _configured)
        {
            var current = stored.FirstOrDefault(s => s.Kind == limit.Kind && s.Name == limit.Name);
            if (current is null || (!_seeded && current.Source == LimitSource.Configuration && current.UpdatedAt <= _firstTry
                && !LimitDefinitions.SameDefinition(current, limit)))
            {
                await store.PutLimitAsync(limit, cancellationToken).ConfigureAwait(false);
                written = true;
            }
        }

        _seeded = true;
        WarnOfLimitsConfiguredElsewhere(stored);
        await ApplyAsync(written, stored, read, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Once, at the first list read: a limit of a queue this server serves that came from configuration and is not in
    /// this server's is not removed (mid rolling deploy, another server's configuration may still have it), but said.
    /// </summary>
    private void WarnOfLimitsConfiguredElsewhere(IReadOnlyList<LimitRecord> stored)
    {
        if (_warnedOfLimitsConfiguredElsewhere)
        {
            return;
        }

        _warnedOfLimitsConfiguredElsewhere = true;
        foreach (var limit in stored)
        {
            if (limit.Source == LimitSource.Configuration && (served?.Serves(limit.Queue) ?? true)
                && !_configured.Any(c => c.Kind == limit.Kind && c.Name == limit.Name))
            {
                Log.ConfiguredLimitNotConfiguredHere(Logger, limit.Kind == LimitKind.Concurrency ? "concurrency" : "rate", limit.Name);
            }
        }
    }

    /// <summary>Applies the list read under <paramref name="read"/>, or a list read again when this tick wrote to it.</summary>
    private async Task ApplyAsync(bool written, IReadOnlyList<LimitRecord> stored, long read, CancellationToken cancellationToken)
    {
        if (written)
        {
            read = inForce.BeginRead();
            stored = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        }

        Apply(stored, read);
    }

    private void Apply(IReadOnlyList<LimitRecord> stored, long read)
    {
        if (_last is not null && _last.Count == stored.Count && _last.Zip(stored).All(static p => LimitDefinitions.SameDefinition(p.First, p.Second) && p.First.UpdatedAt == p.Second.UpdatedAt))
        {
            return;
        }

        _last = stored;
        inForce.Apply(stored, read);
        Log.LimitsChanged(
            Logger,
            stored.Count(static l => l.Kind == LimitKind.Concurrency),
            stored.Count(static l => l.Kind == LimitKind.Rate),
            stored.Count == 0 ? "none" : string.Join(", ", stored.Select(static l => $"{l.Kind.ToString().ToLowerInvariant()} {l.Name}: {l.Limit}")));
    }
}
